package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/obxhub/obx"
)

// The public product-data API (docs/products.md, docs/products-openapi.yaml):
// the Taiwan-style per-bank endpoints under /fisc/v1/ and the hub's own
// cross-bank endpoints under /products/v1/. Every answer comes from the
// in-memory index except the history endpoints; none carries personal data.

// ProductReader answers product queries; package productindex implements it.
type ProductReader interface {
	// Bank returns a bank's data with its branches and ATMs, which it
	// rebuilds for the call; Products returns it without them, at no cost.
	Bank(code string) (*obx.BankProducts, bool)
	Products(code string) (*obx.BankProducts, bool)
	// Branches and ATMs return a page of a bank's places in catalog order
	// (only the one with code place, if set) and how many match, rebuilding
	// only the page.
	Branches(code, place string, offset, limit int) ([]obx.Branch, int, bool)
	ATMs(code, place string, offset, limit int) ([]obx.ATM, int, bool)
	Nearby(q obx.NearbyQuery) obx.NearbyResult
	Compare(q obx.CompareQuery) obx.CompareResult
	BestRates(q obx.BestRateQuery) ([]obx.BestRate, time.Time)
}

// ProductHistory answers "what was in service at time D"; the product store
// implements it.
type ProductHistory interface {
	Catalog(ctx context.Context, bank string, at time.Time) (*obx.Catalog, error)
	Rates(ctx context.Context, bank string, at time.Time) (*obx.RateBoard, error)
}

// Product API error codes (docs/products.md §Errors), each with one status.
const (
	pcodeUnauthorized  = "unauthorized"      // 401: no, bad or expired token
	pcodeForbidden     = "forbidden"         // 403: no products scope, a user token, X-ClientId not the token's, TSP suspended
	pcodeInvalidHeader = "invalid_header"    // 400: a malformed X- header
	pcodeInvalidParam  = "invalid_parameter" // 400: a malformed query parameter
	pcodeUnknownBank   = "unknown_bank"      // 404: no bank publishes under that code
	pcodeNotFound      = "not_found"         // 404: no such endpoint, product type or history
	pcodeInternal      = "internal"          // 500: the hub's own failure
)

var productStatus = map[string]int{
	pcodeUnauthorized: http.StatusUnauthorized, pcodeForbidden: http.StatusForbidden,
	pcodeInvalidHeader: http.StatusBadRequest, pcodeInvalidParam: http.StatusBadRequest,
	pcodeUnknownBank: http.StatusNotFound, pcodeNotFound: http.StatusNotFound, pcodeInternal: http.StatusInternalServerError,
}

// productError is an error with its product API code and a client-safe message.
type productError struct {
	code, message string
	err           error // the cause, logged for internal errors only
}

func (e *productError) Error() string { return e.code + ": " + e.message }

func perr(code, message string) error { return &productError{code: code, message: message} }

// productErrorBody is every product API error. stan echoes X-STAN on the
// per-bank endpoints (fisc-api.md §6).
type productErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	STAN    string `json:"stan,omitempty"`
}

// productHandler is a product API handler: it returns the body to send and
// the time its data was last modified, or an error.
type productHandler func(r *http.Request, p *obx.Principal) (body any, modified time.Time, err error)

// productRoute registers h behind institution-token authentication with the
// products scope. fiscHeaders marks the per-bank endpoints, which also need
// the four FISC headers (validated before anything else is read).
func (s *Server) productRoute(mux *http.ServeMux, pattern string, fiscHeaders bool, h productHandler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		stan := ""
		if fiscHeaders {
			stan = echoFISCHeaders(w, r)
		}
		p, err := s.productPrincipal(r)
		if err == nil && fiscHeaders {
			err = checkFISCHeaders(r, p)
		}
		var body any
		var modified time.Time
		if err == nil {
			body, modified, err = h(r, p)
		}
		if err != nil {
			serverTiming(w, start)
			s.productFail(w, r, stan, err)
			return
		}
		writeConditional(w, r, body, modified, start)
	})
}

// serverTiming tells the client, in a Server-Timing header (W3C), how long
// the hub took over the request: authentication, the query and encoding the
// answer. It is what the product API's latency targets are about, apart from
// the network and the client, and what obx bench products reports as "in
// the hub". Encoding happens before the header is sent, so it is counted.
func serverTiming(w http.ResponseWriter, start time.Time) {
	w.Header().Set("Server-Timing", "hub;dur="+strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64))
}

// productPrincipal authenticates the bearer token: an institution token of
// an active TSP with the products scope.
func (s *Server) productPrincipal(r *http.Request) (*obx.Principal, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	tok, ok := "", len(h) > 7 && strings.EqualFold(h[:7], "bearer ")
	if ok {
		tok = strings.TrimSpace(h[7:])
	}
	if tok == "" {
		return nil, perr(pcodeUnauthorized, "An Authorization: Bearer token with scope products is required.")
	}
	p, err := s.Tokens.Introspect(r.Context(), tok)
	switch {
	case errors.Is(err, obx.ErrTSPSuspended):
		return nil, perr(pcodeForbidden, "The TSP's service is suspended.")
	case errors.Is(err, obx.ErrTokenExpired):
		return nil, perr(pcodeUnauthorized, "The access token has expired.")
	case obx.ErrorCode(err) == obx.EUNAUTHORIZED:
		return nil, perr(pcodeUnauthorized, "The access token is not valid.")
	case err != nil:
		return nil, &productError{code: pcodeInternal, message: "Internal error.", err: err}
	}
	setCaller(r.Context(), p.ClientID)
	if p.UserSeqNo != "" || !p.HasScope(obx.ScopeProducts) {
		return nil, perr(pcodeForbidden, "This API needs an institution (client_credentials) token with scope products.")
	}
	return p, nil
}

var (
	sevenDigits    = regexp.MustCompile(`^[0-9]{7}$`)
	fourteenDigits = regexp.MustCompile(`^[0-9]{14}$`)
)

// fiscZone is the zone of X-TxnInitDateTime: the hub's banks are Korean, so
// KST (UTC+9) where Taiwan uses UTC+8.
var fiscZone = time.FixedZone("KST", 9*60*60)

// echoFISCHeaders copies the four FISC headers onto the response (when each
// is sane to echo: printable and short) and returns X-STAN for error bodies.
func echoFISCHeaders(w http.ResponseWriter, r *http.Request) string {
	for _, h := range []string{"X-STAN", "X-DestinationId", "X-ClientId", "X-TxnInitDateTime"} {
		if v := r.Header.Get(h); v != "" && len(v) <= 64 && printable(v) {
			w.Header().Set(h, v)
		}
	}
	if stan := r.Header.Get("X-STAN"); sevenDigits.MatchString(stan) {
		return stan
	}
	return ""
}

// checkFISCHeaders validates the headers of fisc-api.md §4. X-ClientId must
// name the token's own client: a TSP may not act as another.
func checkFISCHeaders(r *http.Request, p *obx.Principal) error {
	h := r.Header
	if !sevenDigits.MatchString(h.Get("X-STAN")) {
		return perr(pcodeInvalidHeader, "X-STAN must be 7 digits.")
	}
	dest := h.Get("X-DestinationId")
	if !sevenDigits.MatchString(dest) || dest[3:] != "0000" {
		return perr(pcodeInvalidHeader, "X-DestinationId must be 7 digits: the bank's 3-digit code followed by 0000.")
	}
	id := h.Get("X-ClientId")
	if id == "" || len(id) > 64 || !printable(id) {
		return perr(pcodeInvalidHeader, "X-ClientId must be the client_id of the token, 1 to 64 printable characters.")
	}
	if id != p.ClientID {
		return perr(pcodeForbidden, "X-ClientId is not the client_id the token was issued to.")
	}
	ts := h.Get("X-TxnInitDateTime")
	if !fourteenDigits.MatchString(ts) {
		return perr(pcodeInvalidHeader, "X-TxnInitDateTime must be yyyyMMddHHmmss (KST).")
	}
	if _, err := time.ParseInLocation("20060102150405", ts, fiscZone); err != nil {
		return perr(pcodeInvalidHeader, "X-TxnInitDateTime is not a valid date and time.")
	}
	return nil
}

// productFail renders err with its status. Only internal errors are logged,
// with their cause, which never reaches the client.
func (s *Server) productFail(w http.ResponseWriter, r *http.Request, stan string, err error) {
	var pe *productError
	if !errors.As(err, &pe) {
		switch obx.ErrorCode(err) {
		case obx.ENOTFOUND:
			pe = &productError{code: pcodeNotFound, message: obx.ErrorMessage(err)}
		case obx.EINVALID:
			pe = &productError{code: pcodeInvalidParam, message: obx.ErrorMessage(err)}
		default:
			pe = &productError{code: pcodeInternal, message: "Internal error.", err: err}
		}
	}
	if pe.code == pcodeInternal {
		s.Logger.Error("product API", "request_id", requestID(r.Context()), "route", r.Pattern, "err", pe.err)
	}
	if pe.code == pcodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="obx", scope="products"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, productStatus[pe.code], productErrorBody{Code: pe.code, Message: pe.message, STAN: stan})
}

// writeConditional writes body with a strong ETag (a hash of the body, so
// equal answers share it across replicas) and Last-Modified, or 304 when
// the request's If-None-Match or If-Modified-Since says the client has it.
// Clients must revalidate (no-cache): rates change many times a day.
func writeConditional(w http.ResponseWriter, r *http.Request, body any, modified, start time.Time) {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	if err := json.NewEncoder(buf).Encode(body); err != nil { // plain structs of strings and numbers: cannot happen
		http.Error(w, `{"code":"internal","message":"Internal error."}`, http.StatusInternalServerError)
		return
	}
	b := buf.Bytes() // the JSON and a newline, as json.Marshal plus '\n'
	sum := sha256.Sum256(b[:len(b)-1])
	var tag [2 + 32]byte
	tag[0], tag[len(tag)-1] = '"', '"'
	hex.Encode(tag[1:], sum[:16])
	etag := string(tag[:])
	serverTiming(w, start)
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	if !modified.IsZero() {
		h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatches(inm, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !modified.IsZero() &&
		!modified.Truncate(time.Second).After(ims) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// bodyBuffers recycles the buffers product answers are encoded into: the
// API's answers are its main source of garbage, and garbage is what makes
// the collector run.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for reuse: a rare huge answer
// (a 1,000-ATM page) should not pin its memory in the pool.
const maxPooledBody = 256 << 10

func putBodyBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodyBuffers.Put(b)
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
