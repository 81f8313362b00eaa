package obx

import (
	"errors"
	"fmt"
)

// Error codes. Append only: wire mappings, metrics and logs depend on these strings.
const (
	EINVALID      = "invalid"        // bad input, failed validation
	EUNAUTHORIZED = "unauthorized"   // no or bad credentials
	EFORBIDDEN    = "forbidden"      // authenticated, but not allowed
	ENOTFOUND     = "not_found"      // no such thing (or not visible to the caller)
	ECONFLICT     = "conflict"       // duplicate, state clash
	ELIMIT        = "limit_exceeded" // a limit would be exceeded
	EUNAVAILABLE  = "unavailable"    // an upstream (bank) is down or refused service
	ETIMEOUT      = "timeout"        // an upstream did not answer in time; outcome unknown
	EINTERNAL     = "internal"       // everything unclassified
)

// Error is an application error. Message is safe to show to API clients and
// customers; Err is for operators and is never rendered.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so that sentinels wrapped inside stay visible to errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with code and message whose cause is err.
func WrapError(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err, or a generic one.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Internal error."
}

// Sentinels for conditions that wire formats distinguish more finely than the codes.
// Each is wrapped inside an *Error carrying the matching code, so callers that only
// know codes still classify it; the KFTC mapping checks them with errors.Is.
var (
	// ErrConsentMissing: the account has no inquiry consent (제3자정보제공동의).
	ErrConsentMissing = errors.New("inquiry consent missing")
	// ErrConsentExpired: the account's inquiry consent has expired.
	ErrConsentExpired = errors.New("inquiry consent expired")
	// ErrWithdrawConsentMissing: the account has no withdrawal consent (출금동의).
	ErrWithdrawConsentMissing = errors.New("withdrawal consent missing")
	// ErrWithdrawConsentExpired: the account's withdrawal consent has expired.
	ErrWithdrawConsentExpired = errors.New("withdrawal consent expired")
	// ErrScope: the token does not grant the scope the API needs.
	ErrScope = errors.New("scope not granted")
	// ErrWrongUser: the fintech use number belongs to another user than the token's.
	ErrWrongUser = errors.New("account belongs to another user")
	// ErrAccountCancelled: the account registration was cancelled.
	ErrAccountCancelled = errors.New("account cancelled")
	// ErrUserClosed: the user left the TSP's service (탈퇴).
	ErrUserClosed = errors.New("user closed")
	// ErrUnknownFintechNum: no account with this fintech use number for this TSP.
	ErrUnknownFintechNum = errors.New("unknown fintech use number")
	// ErrBankMaintenance: the bank is in a maintenance window.
	ErrBankMaintenance = errors.New("bank in maintenance")
	// ErrBankDown: the bank is down or its circuit breaker is open.
	ErrBankDown = errors.New("bank down")
	// ErrUnknownUser: the TSP has no user with this user_seq_no.
	ErrUnknownUser = errors.New("unknown user")
	// ErrTSPSuspended: the TSP is suspended or terminated; none of its
	// credentials work until the center reinstates it.
	ErrTSPSuspended = errors.New("TSP not active")
	// ErrUnknownBank: no participating bank has this code.
	ErrUnknownBank = errors.New("unknown bank")
)

// errorWith returns an *Error with code and message wrapping the sentinel.
func errorWith(code string, sentinel error, message string) *Error {
	return &Error{Code: code, Message: message, Err: sentinel}
}
