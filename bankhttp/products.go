package bankhttp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/fisc"
)

// Product data (docs/bank-protocol.md §7). A bank publishes its catalog and
// exchange rates in the fisc wire format, two ways: the hub pulls
// GET /bank/v1/products/catalog and /rates with If-None-Match on a schedule,
// and a bank may push PUT /hub/v1/banks/{code}/products/catalog and /rates
// to the hub at once, authenticated by its bank token.

// maxCatalogBytes bounds a catalog document: thousands of branches and ATMs
// with their hours are a few megabytes.
const maxCatalogBytes = 32 << 20

var _ obx.CatalogSource = (*Client)(nil)

// FetchCatalog implements obx.CatalogSource with a conditional GET.
func (c *Client) FetchCatalog(ctx context.Context, etag string) (*obx.CatalogFetch, error) {
	var w fisc.Catalog
	tag, notModified, err := c.fetch(ctx, "/bank/v1/products/catalog", etag, &w)
	if err != nil || notModified {
		return &obx.CatalogFetch{NotModified: notModified, ETag: tag}, err
	}
	cat, ps := w.ToDomain()
	if len(ps) > 0 {
		return &obx.CatalogFetch{ETag: tag, Problems: ps}, nil
	}
	return &obx.CatalogFetch{ETag: tag, Catalog: cat}, nil
}

// FetchRates implements obx.CatalogSource with a conditional GET.
func (c *Client) FetchRates(ctx context.Context, etag string) (*obx.RatesFetch, error) {
	var w fisc.RateBoard
	tag, notModified, err := c.fetch(ctx, "/bank/v1/products/rates", etag, &w)
	if err != nil || notModified {
		return &obx.RatesFetch{NotModified: notModified, ETag: tag}, err
	}
	b, ps := w.ToDomain()
	if len(ps) > 0 {
		return &obx.RatesFetch{ETag: tag, Problems: ps}, nil
	}
	return &obx.RatesFetch{ETag: tag, Board: b}, nil
}

// fetch GETs path with If-None-Match: etag and decodes a 200 into out.
// A document that is not valid JSON for out is EINVALID.
func (c *Client) fetch(ctx context.Context, path, etag string, out any) (tag string, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return "", false, fmt.Errorf("bank %s: new request: %w", c.code, err)
	}
	req.Header.Set("Accept", "application/json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", false, c.transportError(err)
	}
	defer resp.Body.Close()
	tag = resp.Header.Get("ETag")
	if resp.StatusCode == http.StatusNotModified {
		return etag, true, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCatalogBytes+1))
	if err != nil {
		return "", false, c.transportError(err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, c.responseError(resp.StatusCode, data)
	}
	if len(data) > maxCatalogBytes {
		return "", false, obx.Errorf(obx.EINVALID, "Bank %s: %s exceeds %d bytes.", c.code, path, maxCatalogBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return "", false, obx.WrapError(obx.EINVALID, fmt.Sprintf("Bank %s: %s is not a valid document.", c.code, path), err)
	}
	return tag, false, nil
}

// handleCatalog serves GET /bank/v1/products/catalog for a bank that is an
// obx.CatalogSource, honouring If-None-Match.
func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) error {
	src, ok := s.bank.(obx.CatalogSource)
	if !ok {
		return s.handleNoRoute(w, r)
	}
	f, err := src.FetchCatalog(r.Context(), r.Header.Get("If-None-Match"))
	if err != nil {
		return err
	}
	return writeDocument(w, f.NotModified, f.ETag, func() any { return fisc.FromCatalog(f.Catalog) })
}

// handleRates serves GET /bank/v1/products/rates.
func (s *Server) handleRates(w http.ResponseWriter, r *http.Request) error {
	src, ok := s.bank.(obx.CatalogSource)
	if !ok {
		return s.handleNoRoute(w, r)
	}
	f, err := src.FetchRates(r.Context(), r.Header.Get("If-None-Match"))
	if err != nil {
		return err
	}
	return writeDocument(w, f.NotModified, f.ETag, func() any { return fisc.FromRateBoard(f.Board) })
}

// writeDocument answers 304 or the document with its ETag. Product data is
// public, but the link to the hub is private: no-cache keeps proxies honest.
func writeDocument(w http.ResponseWriter, notModified bool, etag string, doc func() any) error {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(doc())
	return nil
}

// Publisher is what a bank's push reaches: *obx.Products.
type Publisher interface {
	PublishCatalog(ctx context.Context, c *obx.Catalog) (bool, error)
	PublishRates(ctx context.Context, b *obx.RateBoard) (bool, error)
}

// PushReceiver is the hub's side of pushed product data: PUT
// /hub/v1/banks/{code}/products/catalog and /rates. Each bank authenticates
// with its bank token, the shared secret of its link with the hub; a bank
// without a token cannot push. Mount it on the hub's mux (http.Mounter).
type PushReceiver struct {
	Products Publisher
	Tokens   map[string]string // bank code → token
	Logger   *slog.Logger
}

// Register implements the hub's Mounter.
func (p *PushReceiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("PUT /hub/v1/banks/{code}/products/catalog", p.handleCatalog)
	mux.HandleFunc("PUT /hub/v1/banks/{code}/products/rates", p.handleRates)
}

// pushResult is the answer to an accepted push.
type pushResult struct {
	BankCode string `json:"bankCode"`
	Stored   bool   `json:"stored"`            // false: the same content was already in service
	Version  int64  `json:"version,omitempty"` // the catalog version now in service
}

// problemJSON is one line of a rejection's per-record report.
type problemJSON struct {
	Record  string `json:"record"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// rejectionJSON is the body of a rejected push: 422, the error body plus the
// report.
type rejectionJSON struct {
	errorJSON
	Problems  []problemJSON `json:"problems"`
	Truncated bool          `json:"truncated,omitempty"`
}

func (p *PushReceiver) handleCatalog(w http.ResponseWriter, r *http.Request) {
	code, ok := p.authorize(w, r)
	if !ok {
		return
	}
	var doc fisc.Catalog
	if err := decodeDocument(w, r, &doc); err != nil {
		p.fail(w, code, err)
		return
	}
	c, ps := doc.ToDomain()
	if len(ps) > 0 {
		p.fail(w, code, obx.RejectError("catalog", ps))
		return
	}
	if c.BankCode != code {
		p.fail(w, code, obx.Errorf(obx.EFORBIDDEN, "The catalog is for bank %q; bank %s may publish only its own.", c.BankCode, code))
		return
	}
	stored, err := p.Products.PublishCatalog(r.Context(), c)
	if err != nil {
		p.fail(w, code, err)
		return
	}
	p.logger().Info("catalog pushed", "bank_code", code, "stored", stored, "version", c.Version)
	writeJSON(w, http.StatusOK, pushResult{BankCode: code, Stored: stored, Version: c.Version})
}

func (p *PushReceiver) handleRates(w http.ResponseWriter, r *http.Request) {
	code, ok := p.authorize(w, r)
	if !ok {
		return
	}
	var doc fisc.RateBoard
	if err := decodeDocument(w, r, &doc); err != nil {
		p.fail(w, code, err)
		return
	}
	b, ps := doc.ToDomain()
	if len(ps) > 0 {
		p.fail(w, code, obx.RejectError("rate board", ps))
		return
	}
	if b.BankCode != code {
		p.fail(w, code, obx.Errorf(obx.EFORBIDDEN, "The rates are for bank %q; bank %s may publish only its own.", b.BankCode, code))
		return
	}
	stored, err := p.Products.PublishRates(r.Context(), b)
	if err != nil {
		p.fail(w, code, err)
		return
	}
	writeJSON(w, http.StatusOK, pushResult{BankCode: code, Stored: stored})
}

func (p *PushReceiver) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// authorize checks the bank's token in constant time. An unknown bank and a
// wrong token answer alike.
func (p *PushReceiver) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	code := r.PathValue("code")
	want := p.Tokens[code]
	got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	if want == "" || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="obx-banks"`)
		writeJSON(w, http.StatusUnauthorized, errorJSON{Code: obx.EUNAUTHORIZED,
			Message: "The bank token is missing or wrong, or the bank may not push.", Reason: reasonBadToken})
		return "", false
	}
	return code, true
}

// fail answers a rejected push: the per-record report for a validation
// failure, the protocol's error body otherwise.
func (p *PushReceiver) fail(w http.ResponseWriter, bank string, err error) {
	if rep := obx.ReportOf(err); rep != nil {
		body := rejectionJSON{errorJSON: errorJSON{Code: obx.EINVALID, Message: obx.ErrorMessage(err)}, Truncated: rep.Truncated}
		for _, pr := range rep.Problems {
			body.Problems = append(body.Problems, problemJSON(pr))
		}
		p.logger().Warn("product data push rejected", "bank_code", bank, "problems", len(rep.Problems))
		writeJSON(w, http.StatusUnprocessableEntity, body)
		return
	}
	status, body := newErrorJSON(err)
	if body.Code == obx.EINTERNAL {
		p.logger().Error("product data push failed", "bank_code", bank, "err", err)
	}
	writeJSON(w, status, body)
}

// decodeDocument reads one JSON document of at most maxCatalogBytes. Unlike
// the protocol's small requests, unknown fields are allowed: a newer bank
// may send fields this hub does not know yet.
func decodeDocument(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return obx.Errorf(obx.EINVALID, "Content-Type must be application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCatalogBytes))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return obx.Errorf(obx.EINVALID, "The document exceeds %d bytes.", maxCatalogBytes)
		}
		return obx.WrapError(obx.EINVALID, "The document is not valid JSON of this format: "+jsonErrorHint(err), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return obx.Errorf(obx.EINVALID, "The body must hold a single JSON document.")
	}
	return nil
}

// jsonErrorHint names where a document went wrong without echoing content.
func jsonErrorHint(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s must be a JSON %s.", te.Field, te.Type)
	}
	return "malformed JSON."
}
