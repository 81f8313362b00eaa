package bankhttp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
)

// FaultSetter is a bank whose faults can be changed at run time; a
// *banksim.Bank is one. The server exposes it under /sim/v1/faults.
type FaultSetter interface {
	Faults() banksim.Faults
	SetFaults(banksim.Faults) error
}

// maxBodyBytes bounds request bodies; the protocol's are a few hundred bytes.
const maxBodyBytes = 64 << 10

// Server serves the bank protocol for one obx.Bank.
type Server struct {
	// Token, when not empty, is the shared secret the hub must send as a bearer
	// token on every request. Set it before serving.
	Token string

	bank   obx.Bank
	faults FaultSetter
	logger *slog.Logger
	mux    *http.ServeMux
}

// NewServer returns a handler serving the bank protocol for b. faults, when
// not nil, is exposed under /sim/v1/faults for simulated banks; real adapters
// pass nil. A nil logger discards logs.
func NewServer(b obx.Bank, faults FaultSetter, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{bank: b, faults: faults, logger: logger.With("bank_code", b.Code()), mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP checks the hub's token, then serves the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Token != "" && !s.tokenOK(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bank"`)
		writeJSON(w, http.StatusUnauthorized, errorJSON{
			Code: obx.EUNAUTHORIZED, Message: "The hub's token is missing or wrong.", Reason: reasonBadToken,
		})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// tokenOK compares the bearer token with Token in constant time; hashing
// first keeps the comparison from revealing the secret's length.
func (s *Server) tokenOK(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// apiHandler adapts a handler that returns an error.
func (s *Server) apiHandler(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.error(w, r, err)
		}
	})
}

// error writes err as the protocol's error body. Only unclassified errors are
// logged: the rest are answers, which the hub logs where it handles them.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status, body := newErrorJSON(err)
	if body.Code == obx.EINTERNAL {
		s.logger.Error("bank protocol request failed", "route", r.Pattern, "error", err)
	}
	writeJSON(w, status, body)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	var req signInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.bank.SignIn(r.Context(), req.Login, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newCustomerJSON(c))
	return nil
}

func (s *Server) handleCustomer(w http.ResponseWriter, r *http.Request) error {
	var req customerLookupRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.bank.Customer(r.Context(), req.CI)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newCustomerJSON(c))
	return nil
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) error {
	var req accountRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	a, err := s.bank.Account(r.Context(), req.AccountNum)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newAccountJSON(a))
	return nil
}

func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request) error {
	var req accountRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	b, err := s.bank.Balance(r.Context(), req.AccountNum)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newBalanceJSON(b))
	return nil
}

func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request) error {
	var req transactionsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	q, err := req.toDomain()
	if err != nil {
		return err
	}
	p, err := s.bank.Transactions(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTransactionPageJSON(p))
	return nil
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.bank.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStatusJSON(s.bank.Code(), s.bank.Name(), st))
	return nil
}

func (s *Server) handleDebit(w http.ResponseWriter, r *http.Request) error {
	return s.operate(w, r, s.bank.Debit)
}

func (s *Server) handleCredit(w http.ResponseWriter, r *http.Request) error {
	return s.operate(w, r, s.bank.Credit)
}

// operate serves a debit or credit. The bank's idempotency by operation id
// carries through: a repeated request returns the first outcome.
func (s *Server) operate(w http.ResponseWriter, r *http.Request, do func(context.Context, obx.Operation) (*obx.OperationResult, error)) error {
	var req operationJSON
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := do(r.Context(), req.toDomain())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newOperationResultJSON(res))
	return nil
}

func (s *Server) handleOperation(w http.ResponseWriter, r *http.Request) error {
	res, err := s.bank.Operation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newOperationResultJSON(res))
	return nil
}

func (s *Server) handleFaultsGet(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, newFaultsJSON(s.faults.Faults()))
	return nil
}

func (s *Server) handleFaultsPut(w http.ResponseWriter, r *http.Request) error {
	var req faultsJSON
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	f, err := req.toDomain()
	if err != nil {
		return err
	}
	if err := s.faults.SetFaults(f); err != nil {
		return err
	}
	s.logger.Info("faults changed through the protocol")
	writeJSON(w, http.StatusOK, newFaultsJSON(s.faults.Faults()))
	return nil
}

func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusNotFound, errorJSON{
		Code: obx.ENOTFOUND, Message: "No such endpoint.", Reason: reasonNoRoute,
	})
	return nil
}

// decodeJSON reads one JSON object of at most maxBodyBytes into v, rejecting
// other content types, unknown fields and trailing data with EINVALID.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return obx.Errorf(obx.EINVALID, "Content-Type must be application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return obx.Errorf(obx.EINVALID, "The request body exceeds %d bytes.", maxBodyBytes)
		}
		return obx.WrapError(obx.EINVALID, "The request body is not valid JSON for this endpoint.", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return obx.Errorf(obx.EINVALID, "The request body must hold a single JSON object.")
	}
	return nil
}

// writeJSON writes v with status. Bank answers carry personal data, so nothing
// may cache them. A failed write means the client has gone; there is no one
// left to tell.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
