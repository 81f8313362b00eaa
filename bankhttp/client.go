package bankhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
)

// DefaultTimeout bounds each request of a Client built without an HTTPClient.
// The hub sets tighter per-call deadlines through contexts.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes bounds what the client reads from an adapter: a page of
// history is a few kilobytes.
const maxResponseBytes = 1 << 20

// Config configures a Client.
type Config struct {
	Code    string // the bank's standard code, e.g. "088"
	Name    string // display name; Code when empty
	BaseURL string // the adapter's base URL, e.g. "http://127.0.0.1:9088"
	// HTTPClient sends the requests. It should have a Timeout; when nil, a
	// client with DefaultTimeout is used (never http.DefaultClient).
	HTTPClient *http.Client
	// Token, when not empty, is sent as a bearer token on every request: the
	// shared secret the adapter's Server.Token expects.
	Token string
}

// Client is the hub's connector to a bank adapter that speaks the protocol.
// It is safe for concurrent use.
type Client struct {
	code, name string
	base       string // without a trailing slash
	hc         *http.Client
	token      string
}

var _ obx.Bank = (*Client)(nil)

// NewClient returns a client for the adapter at cfg.BaseURL. Returns EINVALID
// for a bad code or URL.
func NewClient(cfg Config) (*Client, error) {
	if len(cfg.Code) != 3 || strings.Trim(cfg.Code, "0123456789") != "" {
		return nil, obx.Errorf(obx.EINVALID, "Bank code %q must be three digits.", cfg.Code)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, obx.Errorf(obx.EINVALID, "Bank %s base URL %q must be an http or https URL.", cfg.Code, cfg.BaseURL)
	}
	c := &Client{code: cfg.Code, name: cfg.Name, base: strings.TrimSuffix(cfg.BaseURL, "/"), hc: cfg.HTTPClient, token: cfg.Token}
	if c.name == "" {
		c.name = cfg.Code
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultTimeout}
	}
	return c, nil
}

// Code returns the bank's standard code.
func (c *Client) Code() string { return c.code }

// Name returns the bank's display name.
func (c *Client) Name() string { return c.name }

// SignIn checks a customer's credentials at the bank.
func (c *Client) SignIn(ctx context.Context, login, password string) (*obx.BankCustomer, error) {
	var out customerJSON
	if err := c.do(ctx, http.MethodPost, "/bank/v1/signin", signInRequest{Login: login, Password: password}, &out); err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// Customer returns the customer with the given CI. The CI travels in the
// request body, never in the URL.
func (c *Client) Customer(ctx context.Context, ci string) (*obx.BankCustomer, error) {
	var out customerJSON
	if err := c.lookup(ctx, "/bank/v1/customers/lookup", customerLookupRequest{CI: ci}, &out); err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// Account returns one account. The account number travels in the request
// body, as in Balance and Transactions.
func (c *Client) Account(ctx context.Context, accountNum string) (*obx.BankAccount, error) {
	var out accountJSON
	if err := c.lookup(ctx, "/bank/v1/accounts/get", accountRequest{AccountNum: accountNum}, &out); err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// Balance returns an account's balance.
func (c *Client) Balance(ctx context.Context, accountNum string) (*obx.Balance, error) {
	var out balanceJSON
	if err := c.lookup(ctx, "/bank/v1/accounts/balance", accountRequest{AccountNum: accountNum}, &out); err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// Transactions returns one page of an account's history.
func (c *Client) Transactions(ctx context.Context, q obx.TransactionQuery) (*obx.TransactionPage, error) {
	var out transactionPageJSON
	if err := c.lookup(ctx, "/bank/v1/accounts/transactions", newTransactionsRequest(q), &out); err != nil {
		return nil, err
	}
	p, err := out.toDomain()
	if err != nil {
		return nil, fmt.Errorf("bank %s: %w", c.code, err)
	}
	return p, nil
}

// Status reports whether the bank serves. An adapter that cannot be reached
// is an error (EUNAVAILABLE wrapping obx.ErrBankDown), not a status.
func (c *Client) Status(ctx context.Context) (*obx.BankStatus, error) {
	var out statusJSON
	if err := c.do(ctx, http.MethodGet, "/bank/v1/status", nil, &out); err != nil {
		return nil, err
	}
	st, err := out.toDomain()
	if err != nil {
		return nil, fmt.Errorf("bank %s: %w", c.code, err)
	}
	return st, nil
}

// Debit takes op.Amount from op.AccountNum, idempotent by op.ID. After
// ETIMEOUT the outcome is unknown: ask Operation, or repeat the Debit.
func (c *Client) Debit(ctx context.Context, op obx.Operation) (*obx.OperationResult, error) {
	return c.operate(ctx, "/bank/v1/debits", op)
}

// Credit adds op.Amount to op.AccountNum, idempotent by op.ID.
func (c *Client) Credit(ctx context.Context, op obx.Operation) (*obx.OperationResult, error) {
	return c.operate(ctx, "/bank/v1/credits", op)
}

func (c *Client) operate(ctx context.Context, path string, op obx.Operation) (*obx.OperationResult, error) {
	var out operationResultJSON
	if err := c.do(ctx, http.MethodPost, path, newOperationJSON(op), &out); err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// Operation returns the recorded outcome of an earlier Debit or Credit.
func (c *Client) Operation(ctx context.Context, id string) (*obx.OperationResult, error) {
	var out operationResultJSON
	if err := c.do(ctx, http.MethodGet, "/bank/v1/operations/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return out.toDomain(), nil
}

// Faults returns a simulated bank's faults. Adapters of real banks answer
// EUNAVAILABLE (no such endpoint).
func (c *Client) Faults(ctx context.Context) (banksim.Faults, error) {
	var out faultsJSON
	if err := c.do(ctx, http.MethodGet, "/sim/v1/faults", nil, &out); err != nil {
		return banksim.Faults{}, err
	}
	f, err := out.toDomain()
	if err != nil {
		return banksim.Faults{}, fmt.Errorf("bank %s: %w", c.code, err)
	}
	return f, nil
}

// SetFaults replaces a simulated bank's faults. Latency travels in whole
// milliseconds. Returns EINVALID for faults the bank refuses.
func (c *Client) SetFaults(ctx context.Context, f banksim.Faults) error {
	return c.do(ctx, http.MethodPut, "/sim/v1/faults", newFaultsJSON(f), &faultsJSON{})
}

// lookup sends a read-only POST: a lookup whose identifier must stay out of
// the URL. It tells the transport that the request is idempotent, so that,
// like a GET, it is retried when the adapter closes a pooled connection just
// as the request goes out; the Idempotency-Key entry without a value is never
// sent on the wire (see net/http.Transport).
func (c *Client) lookup(ctx context.Context, path string, in, out any) error {
	return c.send(ctx, http.MethodPost, path, in, out, true)
}

// do sends one request; see send.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return c.send(ctx, method, path, in, out, false)
}

// send sends one request and decodes the answer into out, or returns the
// domain error the answer or its absence stands for. Requests have no query
// string: whatever identifies a customer or an account goes in the body, in,
// so that URLs, which proxies and access logs record, carry no personal data.
// readOnly marks a POST that changes nothing as safe to retry.
func (c *Client) send(ctx context.Context, method, path string, in, out any, readOnly bool) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("bank %s: encode request: %w", c.code, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("bank %s: new request: %w", c.code, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if readOnly {
		req.Header["Idempotency-Key"] = nil
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return c.transportError(err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("bank %s: %s %s: response exceeds %d bytes", c.code, method, path, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.responseError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bank %s: %s %s: decode response: %w", c.code, method, path, err)
	}
	return nil
}

// transportError classifies a request that got no HTTP answer. If the
// connection could not be made, nothing reached the bank: EUNAVAILABLE
// wrapping obx.ErrBankDown. Otherwise the request may have been applied and
// its answer lost or late: ETIMEOUT, and the caller settles with Operation.
func (c *Client) transportError(err error) error {
	var (
		op      *net.OpError
		certErr *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		return obx.WrapError(obx.EUNAVAILABLE, "The bank is not reachable.", fmt.Errorf("%w: %w", obx.ErrBankDown, err))
	case errors.As(err, &certErr):
		return obx.WrapError(obx.EUNAVAILABLE, "The bank is not reachable.", fmt.Errorf("%w: %w", obx.ErrBankDown, err))
	}
	return obx.WrapError(obx.ETIMEOUT, "The bank did not answer in time.", fmt.Errorf("bank %s: %w", c.code, err))
}
