package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// The admin API (/admin/v1/) is a stop-gap for the hub's operators until the
// operator console brings staff accounts, roles and an audit trail: one static
// bearer token (Server.AdminToken) grants all of it. It is mounted only when a
// token is configured, speaks plain JSON with HTTP status codes (not the KFTC
// envelope), and is never cached.

// Settlements closes and reads settlement cycles. *sqlstore.Cycles implements it.
type Settlements interface {
	// Settle closes day's cycle, if still open and past its cut-off
	// (ECONFLICT before), and returns its report; a closed cycle's report
	// never changes. EINVALID for a malformed day.
	Settle(ctx context.Context, day string, at time.Time) (*obx.Settlement, error)
	// Settlement returns a closed cycle's report; ENOTFOUND while it is open.
	Settlement(ctx context.Context, day string) (*obx.Settlement, error)
}

// adminHandler is an admin API handler; adminRoute renders its error.
type adminHandler func(w http.ResponseWriter, r *http.Request) error

// adminRoute puts h behind the admin token. The token is compared in constant
// time through digests, so that neither its content nor its length leaks.
func (s *Server) adminRoute(h adminHandler) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.AdminToken))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		token := ""
		if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
			token = auth[7:]
		}
		got := sha256.Sum256([]byte(token))
		if token == "" || s.AdminToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="obx-admin"`)
			s.adminError(w, r, obx.Errorf(obx.EUNAUTHORIZED, "A valid admin bearer token is required."))
			return
		}
		setCaller(r.Context(), "admin")
		if err := h(w, r); err != nil {
			s.adminError(w, r, err)
		}
	}
}

// adminStatus maps domain error codes to the admin API's HTTP status codes.
var adminStatus = map[string]int{
	obx.EINVALID:      http.StatusBadRequest,
	obx.EUNAUTHORIZED: http.StatusUnauthorized,
	obx.EFORBIDDEN:    http.StatusForbidden,
	obx.ENOTFOUND:     http.StatusNotFound,
	obx.ECONFLICT:     http.StatusConflict,
	obx.ELIMIT:        http.StatusTooManyRequests,
	obx.EUNAVAILABLE:  http.StatusServiceUnavailable,
	obx.ETIMEOUT:      http.StatusGatewayTimeout,
}

// adminErrorBody is an admin API error.
type adminErrorBody struct {
	Error   string `json:"error"` // the domain error code
	Message string `json:"message"`
}

// adminError renders err with the status of its code. Internal errors are
// logged and answered without their cause.
func (s *Server) adminError(w http.ResponseWriter, r *http.Request, err error) {
	code := obx.ErrorCode(err)
	status, ok := adminStatus[code]
	if !ok {
		code, status = obx.EINTERNAL, http.StatusInternalServerError
		s.Logger.Error("internal error", "request_id", requestID(r.Context()), "route", r.Pattern, "err", err)
	}
	writeJSON(w, status, adminErrorBody{Error: code, Message: obx.ErrorMessage(err)})
}

// settlementResponse is a settlement cycle's report. `obx settle --format
// json` prints the same fields.
type settlementResponse struct {
	Day          string         `json:"day"` // KST business day, YYYYMMDD
	ClosedAt     time.Time      `json:"closed_at"`
	Currency     string         `json:"currency"`
	Movements    int64          `json:"movements"`
	GrossTotal   int64          `json:"gross_total"`
	Positions    []bankPosition `json:"positions"`
	PositionsSum int64          `json:"positions_sum"` // always 0
	Balanced     bool           `json:"balanced"`
}

// bankPosition is one bank's multilateral net position: positive, the bank
// receives that much at settlement; negative, it pays.
type bankPosition struct {
	BankCode    string `json:"bank_code"`
	BankName    string `json:"bank_name"`
	NetPosition int64  `json:"net_position"`
}

func (s *Server) settlementResponse(st *obx.Settlement) settlementResponse {
	resp := settlementResponse{Day: st.Day, ClosedAt: st.ClosedAt.UTC(), Currency: "KRW",
		Movements: st.Movements, GrossTotal: st.Total, Positions: []bankPosition{}}
	for code, pos := range st.Positions {
		name := ""
		if s.Service != nil && s.Service.Banks != nil {
			name = s.bankName(code)
		}
		resp.Positions = append(resp.Positions, bankPosition{BankCode: code, BankName: name, NetPosition: pos})
		resp.PositionsSum += pos
	}
	slices.SortFunc(resp.Positions, func(a, b bankPosition) int { return strings.Compare(a.BankCode, b.BankCode) })
	resp.Balanced = resp.PositionsSum == 0
	return resp
}

// writeSettlement answers with st's report. Unbalanced positions cannot
// happen (every movement adds to one bank what it takes from another), so
// they are reported as they are and logged as an error for the operators.
func (s *Server) writeSettlement(w http.ResponseWriter, r *http.Request, st *obx.Settlement) error {
	resp := s.settlementResponse(st)
	if !resp.Balanced {
		s.Logger.Error("settlement positions do not sum to zero", "request_id", requestID(r.Context()),
			"day", resp.Day, "sum", resp.PositionsSum)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// settlementDay reads the {date} of a settlement path: a KST business day,
// YYYYMMDD.
func settlementDay(r *http.Request) (string, error) {
	day := r.PathValue("date")
	if _, err := time.Parse("20060102", day); err != nil || len(day) != 8 {
		return "", obx.Errorf(obx.EINVALID, "The date must be a business day YYYYMMDD.")
	}
	return day, nil
}

// handleCloseSettlement handles "POST /admin/v1/settlements/{date}": close
// the business day's settlement cycle (once its cut-off has passed) and
// report each bank's net position. Repeating it returns the same report.
func (s *Server) handleCloseSettlement(w http.ResponseWriter, r *http.Request) error {
	day, err := settlementDay(r)
	if err != nil {
		return err
	}
	st, err := s.Settlements.Settle(r.Context(), day, s.Now())
	if err != nil {
		return err
	}
	s.Logger.Info("settlement cycle closed", "request_id", requestID(r.Context()), "day", st.Day,
		"movements", st.Movements)
	return s.writeSettlement(w, r, st)
}

// handleGetSettlement handles "GET /admin/v1/settlements/{date}": a closed
// cycle's report; 404 while the cycle is open.
func (s *Server) handleGetSettlement(w http.ResponseWriter, r *http.Request) error {
	day, err := settlementDay(r)
	if err != nil {
		return err
	}
	st, err := s.Settlements.Settlement(r.Context(), day)
	if err != nil {
		return err
	}
	return s.writeSettlement(w, r, st)
}
