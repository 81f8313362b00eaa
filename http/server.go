// Package http is the hub's HTTP transport: the KFTC v2.0 API (bearer tokens,
// no cookies), the OAuth endpoints mounted from package oauth, health and
// readiness probes, and Prometheus metrics. Handlers are methods on Server that
// return an error; one function per wire format turns errors into responses.
package http

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/obxhub/obx"
)

// Introspector validates access tokens. package oauth implements it.
type Introspector interface {
	// Introspect returns the principal of a valid access token; EUNAUTHORIZED
	// otherwise, wrapping obx.ErrTokenExpired when the token expired.
	Introspect(ctx context.Context, token string) (*obx.Principal, error)
}

// Mounter adds routes to a mux; package oauth and the sandbox implement it.
type Mounter interface {
	Register(mux *http.ServeMux)
}

// Server serves the hub over HTTP. Set the exported fields, then call Handler.
type Server struct {
	Service   *obx.Service
	Transfers *obx.Transfers
	Tokens    Introspector
	// Mounts add further routes (the OAuth server, sandbox tools).
	Mounts []Mounter
	// Ready reports whether the hub can serve (database reachable).
	Ready   func(ctx context.Context) error
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
	// Products, when set, serves the public product-data API
	// (products.go) from the in-memory index; ProductHistory answers its
	// history endpoints from the store.
	Products       ProductReader
	ProductHistory ProductHistory
	// Checklist, when set, hears of every successful sandbox call, which
	// ticks the caller's functional-test checklist (admission).
	Checklist Checklist
	// Calls, when set, keeps each TSP's recent API calls for the portal.
	Calls obx.CallLog

	ticked sync.Map // "tspID path" already reported by this process
}

// Checklist records successful sandbox calls. *sqlstore.DB implements it.
type Checklist interface {
	RecordSandboxSuccess(ctx context.Context, tspID int64, api string, at time.Time) error
}

// Handler returns the hub's root handler with every route and middleware.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics(nil)
	}
	mux := http.NewServeMux()
	s.routes(mux)
	for _, m := range s.Mounts {
		m.Register(mux)
	}
	return s.middleware(mux)
}

// tick reports a successful sandbox call to the checklist, once per TSP and
// API per process: only the first success matters, and the API's hot path
// should not write to the database on every call.
func (s *Server) tick(r *http.Request, p *obx.Principal, path string) {
	if s.Checklist == nil || p.Env != obx.EnvSandbox {
		return
	}
	key := fmt.Sprintf("%d %s", p.TSPID, path)
	if _, seen := s.ticked.LoadOrStore(key, true); seen {
		return
	}
	if err := s.Checklist.RecordSandboxSuccess(r.Context(), p.TSPID, path, s.Now()); err != nil {
		s.ticked.Delete(key)
		s.Logger.Warn("record sandbox success", "request_id", requestID(r.Context()), "err", err)
	}
}

// handleHealthz handles "GET /healthz": the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// handleReadyz handles "GET /readyz": the hub can serve (its database answers).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			s.Logger.Warn("not ready", "request_id", requestID(r.Context()), "err", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

// writeJSON writes v with the Content-Type KFTC clients saw from the real hub.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
