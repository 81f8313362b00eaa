package http

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// kftcHandler is a KFTC API handler: it gets the decoded request and the
// authenticated principal and returns an error that kftcError renders.
type kftcHandler func(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error

// kftcRoute registers h for method and path behind bearer authentication and
// tolerant decoding, and O0010 for every other method on the path. Like
// KFTC's gateway, it refuses a token that grants none of scopes (O0011)
// before reading the request; the service checks again where it decides.
func (s *Server) kftcRoute(mux *http.ServeMux, method, path string, h kftcHandler, scopes ...string) {
	s.kftcRouteHinted(mux, method, path, h, nil, scopes...)
}

// kftcRouteHinted is kftcRoute for an API whose request names, before the
// token is checked, what the handler will read once it is: the request is
// decoded first, and hint's answer rides in the context of the token's read
// (see obx.PayerHint). Errors keep their order: a token's come before a
// body's.
func (s *Server) kftcRouteHinted(mux *http.ServeMux, method, path string, h kftcHandler, hint func(kftc.Fields) *obx.PayerHint, scopes ...string) {
	mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		var f kftc.Fields
		var decodeErr error
		if hint != nil {
			if f, decodeErr = kftc.Decode(w, r); decodeErr == nil {
				if ph := hint(f); ph != nil {
					r = r.WithContext(obx.NewContextWithPayerHint(r.Context(), ph))
				}
			}
		}
		p, code, detail := s.authenticate(r)
		if code == kftc.CodeServiceUnavailable {
			s.kftcError(w, r, &obx.Error{Code: obx.EFORBIDDEN, Message: "The TSP's service is suspended.", Err: obx.ErrTSPSuspended}, nil)
			return
		}
		if code != "" {
			s.gatewayError(w, code, detail)
			return
		}
		setPrincipal(r.Context(), p)
		if !slices.ContainsFunc(scopes, p.HasScope) {
			s.gatewayError(w, kftc.CodeScope, "")
			return
		}
		r = r.WithContext(obx.NewContextWithPrincipal(r.Context(), p))
		err := decodeErr
		if hint == nil {
			f, err = kftc.Decode(w, r)
		}
		if err == nil {
			err = h(w, r, f, p)
		}
		if err != nil {
			s.kftcError(w, r, err, nil)
			return
		}
		s.tick(r, p, path)
	})
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		s.gatewayError(w, kftc.CodeMethod, "")
	})
}

// authenticate reads the bearer token leniently (§1.4: "Bearer<token>" with no
// space is sent by real clients) and introspects it.
func (s *Server) authenticate(r *http.Request) (p *obx.Principal, code, detail string) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) >= 6 && strings.EqualFold(h[:6], "bearer") {
		h = strings.TrimSpace(h[6:])
	} else {
		h = ""
	}
	if h == "" {
		return nil, kftc.CodeAuthParam, ""
	}
	p, err := s.Tokens.Introspect(r.Context(), h)
	switch {
	case err == nil:
		return p, "", ""
	case errors.Is(err, obx.ErrTokenExpired):
		return nil, kftc.CodeTokenExpired, ""
	case errors.Is(err, obx.ErrTSPSuspended):
		return nil, kftc.CodeServiceUnavailable, ""
	case obx.ErrorCode(err) == obx.EUNAUTHORIZED:
		return nil, kftc.CodeTokenRejected, ""
	default:
		s.Logger.Error("introspect token", "request_id", requestID(r.Context()), "err", err)
		return nil, kftc.CodeInternal, ""
	}
}

// gatewayError writes the bare {rsp_code, rsp_message} body KFTC's gateway
// answers authentication and routing errors with (§4, §6.2).
func (s *Server) gatewayError(w http.ResponseWriter, code, detail string) {
	msg := kftc.Message(code, "")
	if code == kftc.CodeAuthParam {
		if detail == "" {
			detail = "992" // no Authorization: Bearer header
		}
		msg += "([" + detail + "])"
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.rspCode = code
	}
	writeJSON(w, http.StatusOK, kftc.GatewayError{RspCode: code, RspMessage: msg})
}

// handleNoSuchAPI answers paths under /v2.0/ that obx does not serve.
func (s *Server) handleNoSuchAPI(w http.ResponseWriter, r *http.Request) {
	s.gatewayError(w, kftc.CodeNoSuchAPI, "")
}

// errorBody is an API error: the envelope, plus the bank fields when a bank
// was asked.
type errorBody struct {
	kftc.Envelope
	*kftc.BankFields
}

// kftcError renders err as KFTC does: HTTP 200 with the rsp_code of the one
// mapping table. Internal errors are logged with the request id and answered
// without their cause. bank, when set, carries the bank fields of a request
// that reached (or tried to reach) a bank.
func (s *Server) kftcError(w http.ResponseWriter, r *http.Request, err error, bank *kftc.BankFields) {
	code, detail := kftc.Code(err)
	if code == kftc.CodeInternal {
		s.Logger.Error("internal error", "request_id", requestID(r.Context()), "route", r.Pattern, "err", err)
	}
	if kftc.IsGateway(code) {
		s.gatewayError(w, code, "")
		return
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.rspCode = code
	}
	env := kftc.NewEnvelope(s.Now())
	env.RspCode, env.RspMessage = code, kftc.Message(code, detail)
	if bank != nil {
		var be *obx.BankError
		switch {
		case errors.As(err, &be):
			bank.BankRspCode, bank.BankRspMessage = be.RspCode, be.Message
			if bank.BankCodeTran == "" {
				bank.BankCodeTran = be.BankCode
			}
		case code == kftc.CodeBankTimeout || code == kftc.CodeBankError || code == kftc.CodeNotInquiryTime:
			bank.BankRspCode, bank.BankRspMessage = "", obx.ErrorMessage(err)
		default:
			bank = nil // the bank was never asked
		}
	}
	writeJSON(w, http.StatusOK, errorBody{Envelope: env, BankFields: bank})
}

// ok writes a successful response and records A0000 for the access log.
func (s *Server) ok(w http.ResponseWriter, v any) error { return s.reply(w, kftc.CodeOK, v) }

// reply writes a response whose envelope carries code, and records the code
// for the access log and metrics.
func (s *Server) reply(w http.ResponseWriter, code string, v any) error {
	if rec, ok := w.(*statusRecorder); ok {
		rec.rspCode = code
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// bankName returns a bank's display name, or "" for an unknown code.
func (s *Server) bankName(code string) string {
	b, err := s.Service.Banks.Bank(code)
	if err != nil {
		return ""
	}
	return b.Name()
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// consentFields renders one consent as the *_agree_yn / *_agree_dtime pair:
// "Y" only while the consent holds.
func consentFields(agreed, expires, now time.Time) (string, string) {
	if agreed.IsZero() || (!expires.IsZero() && !now.Before(expires)) {
		return "N", ""
	}
	return "Y", kftc.FormatDtime(agreed)
}
