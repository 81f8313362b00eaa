package oauth

import (
	"errors"
	"strings"

	"github.com/ory/fosite"
)

// Failures the handlers detect themselves, before or after fosite.
var (
	// errMethod: a method other than POST on /token or /revoke.
	errMethod = errors.New("method not allowed")
	// errParams: a parameter is missing, repeated or malformed.
	errParams = errors.New("missing or duplicate parameters")
	// errUserScope: a client_credentials request asked for a user scope.
	errUserScope = errors.New("client_credentials with a user scope")
	// errSelfAuth: scope "sa" for a TSP that is not self-authenticating.
	errSelfAuth = errors.New("scope sa not allowed")
	// errUnregisteredScope: a scope the client did not register.
	errUnregisteredScope = errors.New("scope not registered for the client")
	// errResponseType: response_type other than "code".
	errResponseType = errors.New("unsupported response_type")
	// errAccessDenied: the customer refused, or could not sign in to the bank.
	errAccessDenied = errors.New("access denied")
)

// wireError is how one failure reads on the KFTC wire: the envelope of the
// token and revoke endpoints ({rsp_code, rsp_message}, always HTTP 200), and
// the error redirect of the authorize endpoint (error, error_description).
type wireError struct {
	RspCode    string // KFTC rsp_code
	RspMessage string // KFTC rsp_message; also the error_description of redirects
	OAuth      string // RFC 6749 error code for authorize redirects
}

// O0001 sub-codes render as KFTC's live testbed does: "인증 파라미터 오류([3000201])".
func o0001(sub, oauth string) wireError {
	return wireError{RspCode: "O0001", RspMessage: "인증 파라미터 오류([" + sub + "])", OAuth: oauth}
}

// errorTable maps every failure of the OAuth endpoints to the KFTC wire, in
// one place (kftc-api.md §3.2, §6.1, §6.2). The first matching row wins; the
// last row catches everything else. fosite errors are matched by their RFC
// 6749 error (errors.Is compares that), and in one case by fosite's hint, which
// is pinned by the fosite version and covered by tests.
var errorTable = []struct {
	match func(err error) bool
	wire  wireError
}{
	{is(errMethod), wireError{"O0010", "허용되지 않은 http method", "invalid_request"}},
	{is(errSelfAuth), wireError{"O0011", "허용되지 않은 Scope 입니다.", "invalid_scope"}},
	{is(errUserScope), o0001("3000103", "invalid_scope")},
	{is(errParams), o0001("3000103", "invalid_request")},
	{is(errResponseType), o0001("3000116", "unsupported_response_type")},
	{is(errUnregisteredScope), o0001("3000115", "invalid_scope")},
	{is(errAccessDenied), wireError{"O0001", "사용자가 인증을 거부했습니다", "access_denied"}},
	// Two racing exchanges of one code: the loser sees the code already used.
	{is(fosite.ErrInvalidatedAuthorizeCode), o0001("3002110", "invalid_grant")},
	{hint(fosite.ErrInvalidGrant, "redirect_uri"), o0001("3000114", "invalid_grant")},
	{is(fosite.ErrInvalidClient), o0001("3000201", "invalid_client")},
	{is(fosite.ErrUnauthorizedClient), o0001("3000201", "unauthorized_client")},
	{is(fosite.ErrInvalidGrant), o0001("3002110", "invalid_grant")},
	{is(fosite.ErrInvalidScope), o0001("3000115", "invalid_scope")},
	{is(fosite.ErrScopeNotGranted), o0001("3000115", "invalid_scope")},
	{is(fosite.ErrUnsupportedResponseType), o0001("3000116", "unsupported_response_type")},
	{is(fosite.ErrInvalidState), o0001("3000103", "invalid_request")},
	{is(fosite.ErrInvalidRequest), o0001("3000103", "invalid_request")},
	{is(fosite.ErrUnsupportedGrantType), o0001("3000103", "unsupported_grant_type")},
	{is(fosite.ErrUnsupportedResponseMode), o0001("3000103", "invalid_request")},
	{is(fosite.ErrTemporarilyUnavailable), wireError{"A0007", "처리시간 초과 에러", "temporarily_unavailable"}},
	{func(error) bool { return true }, wireError{"A0003", "내부 처리 에러", "server_error"}},
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// hint matches a fosite error of kind target whose hint mentions s.
func hint(target *fosite.RFC6749Error, s string) func(error) bool {
	return func(err error) bool {
		var e *fosite.RFC6749Error
		return errors.Is(err, target) && errors.As(err, &e) && strings.Contains(e.HintField, s)
	}
}

// toWire returns how err reads on the wire, and whether it is internal (to be
// logged; never detailed to the client).
func toWire(err error) (wireError, bool) {
	for i, row := range errorTable {
		if row.match(err) {
			return row.wire, i == len(errorTable)-1
		}
	}
	panic("unreachable: the last row matches everything")
}

// describe renders err for the log: its text plus fosite's hint and debug
// details, without the stack traces fosite's errors carry (which slog would
// print with %+v). No part of it holds a token or secret: fosite's messages
// name parameters, never their values.
func describe(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var e *fosite.RFC6749Error
	if errors.As(err, &e) {
		if e.HintField != "" {
			s += "; hint: " + e.HintField
		}
		if e.DebugField != "" {
			s += "; debug: " + e.DebugField
		}
	}
	return s
}
