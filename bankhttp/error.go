package bankhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/obxhub/obx"
)

// codeRefused is the error code of a refusal by the bank (a *obx.BankError):
// the body's bank_rsp_code carries the bank's response code.
const codeRefused = "refused"

// Reasons refine an error code where the hub needs to know more than the code.
const (
	reasonBankDown        = "bank_down"        // obx.ErrBankDown
	reasonBankMaintenance = "bank_maintenance" // obx.ErrBankMaintenance
	reasonBadToken        = "bad_token"        // the adapter refused the hub's bearer token
	reasonNoRoute         = "no_route"         // no such endpoint: a wrong base URL or protocol version
)

// statusByCode is the protocol's one table from error codes to HTTP statuses.
// Client errors are 4xx; 5xx is kept for the bank's own trouble.
var statusByCode = map[string]int{
	obx.EINVALID:      http.StatusBadRequest,
	obx.EUNAUTHORIZED: http.StatusUnauthorized,
	obx.EFORBIDDEN:    http.StatusForbidden,
	obx.ENOTFOUND:     http.StatusNotFound,
	obx.ECONFLICT:     http.StatusConflict,
	obx.ELIMIT:        http.StatusUnprocessableEntity,
	codeRefused:       http.StatusUnprocessableEntity,
	obx.EUNAVAILABLE:  http.StatusServiceUnavailable,
	obx.ETIMEOUT:      http.StatusGatewayTimeout,
	obx.EINTERNAL:     http.StatusInternalServerError,
}

// newErrorJSON turns a domain error into its wire form and HTTP status.
// Internal causes stay behind: only codes, bank codes and safe messages go out.
func newErrorJSON(err error) (int, errorJSON) {
	var be *obx.BankError
	if errors.As(err, &be) {
		return statusByCode[codeRefused], errorJSON{Code: codeRefused, BankRspCode: be.RspCode, Message: be.Message}
	}
	body := errorJSON{Code: obx.ErrorCode(err), Message: obx.ErrorMessage(err)}
	switch {
	case errors.Is(err, obx.ErrBankDown):
		body.Reason = reasonBankDown
	case errors.Is(err, obx.ErrBankMaintenance):
		body.Reason = reasonBankMaintenance
	}
	status, ok := statusByCode[body.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, body
}

// Causes the client wraps for transport-level failures.
var (
	errBadToken = errors.New("bank adapter refused the hub's token")
	errNoRoute  = errors.New("bank adapter does not serve this endpoint")
)

// responseError turns an error response back into the domain error it stands for.
func (c *Client) responseError(status int, data []byte) error {
	var body errorJSON
	if err := json.Unmarshal(data, &body); err != nil || body.Code == "" {
		// Not the protocol's body: a proxy or a server that is not an adapter.
		cause := fmt.Errorf("bank %s: HTTP status %d without a protocol error body", c.code, status)
		switch status {
		case http.StatusGatewayTimeout:
			return obx.WrapError(obx.ETIMEOUT, "The bank did not answer in time.", cause)
		case http.StatusBadGateway, http.StatusServiceUnavailable:
			return obx.WrapError(obx.EUNAVAILABLE, "The bank is not available.", fmt.Errorf("%w: %w", obx.ErrBankDown, cause))
		}
		return obx.WrapError(obx.EUNAVAILABLE, "The bank is not available.", cause)
	}
	if body.Code == codeRefused || body.BankRspCode != "" {
		return &obx.BankError{BankCode: c.code, RspCode: body.BankRspCode, Message: body.Message}
	}
	e := &obx.Error{Code: body.Code, Message: body.Message}
	switch body.Reason {
	case reasonBankDown:
		e.Err = obx.ErrBankDown
	case reasonBankMaintenance:
		e.Err = obx.ErrBankMaintenance
	case reasonBadToken:
		// The hub's credentials for the adapter are wrong: for the hub's callers
		// that is an unusable bank, never a customer's EUNAUTHORIZED.
		return obx.WrapError(obx.EUNAVAILABLE, "The bank is not available.", errBadToken)
	case reasonNoRoute:
		return obx.WrapError(obx.EUNAVAILABLE, "The bank is not available.", errNoRoute)
	}
	if _, ok := statusByCode[e.Code]; !ok {
		e.Err = fmt.Errorf("bank %s: unknown error code %q", c.code, e.Code)
		e.Code = obx.EINTERNAL
	}
	return e
}
