package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// callerKey carries a *caller that handlers fill in once they know who is
// calling, so that the access log line, written by the middleware, can name
// the client.
type callerKey struct{}

type caller struct {
	clientID string
	tspID    int64  // set once the token is valid: the call goes to the TSP's call log
	env      string // the credentials' environment
}

func setCaller(ctx context.Context, clientID string) {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		c.clientID = clientID
	}
}

// setPrincipal names the authenticated caller, for the log line and the
// TSP's call log.
func setPrincipal(ctx context.Context, p *obx.Principal) {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		c.clientID, c.tspID, c.env = p.ClientID, p.TSPID, p.Env
	}
}

// statusRecorder remembers the status and the KFTC rsp_code a handler wrote,
// for the access log and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	rspCode string
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware wraps every route: a request id (taken from X-Request-Id when a
// proxy set a sane one), panic recovery, metrics and one access-log line.
// The log never carries query strings or headers: they hold tokens and
// account numbers.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || !printable(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		who := &caller{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey{}, id), callerKey{}, who)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(ctx)
		defer func() {
			if p := recover(); p != nil {
				s.Logger.Error("panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeJSON(rec, http.StatusOK, kftc.GatewayError{RspCode: kftc.CodeInternal, RspMessage: kftc.Message(kftc.CodeInternal, "")})
				}
				rec.rspCode = kftc.CodeInternal
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			s.Metrics.observeRequest(route, rec.status, rec.rspCode, d)
			if s.Calls != nil && who.tspID != 0 {
				s.Calls.RecordCall(obx.APICall{TSPID: who.tspID, ClientID: who.clientID, Env: who.env, At: start.UTC(),
					API: route, Status: rec.status, RspCode: rec.rspCode, Latency: d})
			}
			level := slog.LevelInfo
			if route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics" {
				level = slog.LevelDebug
			}
			s.Logger.LogAttrs(ctx, level, "request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", rec.status),
				slog.String("rsp_code", rec.rspCode),
				slog.String("client_id", who.clientID),
				slog.Duration("duration", d))
		}()
		next.ServeHTTP(rec, r)
	})
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
