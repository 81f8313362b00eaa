package bankhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankhttp"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/banksim/banktest"
)

const token = "test-shared-secret"

// serve serves sim through the protocol on a real HTTP server and returns a
// client for it.
func serve(t *testing.T, sim *banksim.Bank) (*bankhttp.Client, *httptest.Server) {
	t.Helper()
	srv := serveSim(t, sim)
	return newClient(t, srv.URL, token, 10*time.Second), srv
}

func serveSim(t *testing.T, sim *banksim.Bank) *httptest.Server {
	t.Helper()
	h := bankhttp.NewServer(sim, sim, nil)
	h.Token = token
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, baseURL, token string, timeout time.Duration) *bankhttp.Client {
	t.Helper()
	return newClientVia(t, baseURL, token, &http.Client{Timeout: timeout})
}

func newClientVia(t *testing.T, baseURL, token string, hc *http.Client) *bankhttp.Client {
	t.Helper()
	c, err := bankhttp.NewClient(bankhttp.Config{
		Code: banktest.Code, Name: banksim.DemoBankName(banktest.Code), BaseURL: baseURL,
		HTTPClient: hc, Token: token,
	})
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	return c
}

// TestContract runs the obx.Bank contract through Client and Server, so the
// protocol preserves every behaviour of the bank behind it, errors included.
// It records every request the client sends on the way, then checks that no
// CI or account number travelled in a URL, where proxies and access logs
// would keep it.
func TestContract(t *testing.T) {
	rec := &recorder{next: http.DefaultTransport}
	t.Run("Bank", func(t *testing.T) {
		banktest.Run(t, func(t *testing.T, sim *banksim.Bank) banktest.Target {
			srv := serveSim(t, sim)
			c := newClientVia(t, srv.URL, token, &http.Client{Timeout: 10 * time.Second, Transport: rec})
			return banktest.Target{Bank: c, SetFaults: c.SetFaults}
		})
	})
	t.Run("NoIdentifiersInURLs", func(t *testing.T) {
		// Every contract bank has the same seed, so the same customers and accounts.
		var ids []string
		for _, l := range banksim.DemoLogins(banktest.Code, banktest.Seed) {
			ids = append(ids, l.CI)
		}
		if !slices.ContainsFunc(ids, func(ci string) bool { return strings.ContainsAny(ci, "/+") }) {
			t.Fatal("no demo CI with '/' or '+': the escaped forms go unchecked")
		}
		for _, a := range banktest.AllAccounts(t, banktest.OpenSim(t)) {
			ids = append(ids, a.Number)
		}
		rec.check(t, ids)
	})
}

// recorder is an http.RoundTripper that records the URL and body of every
// request before passing it on to next.
type recorder struct {
	next http.RoundTripper

	mu   sync.Mutex
	sent []sentRequest
}

type sentRequest struct {
	method string
	url    *url.URL
	body   string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := sentRequest{method: req.Method, url: req.URL}
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			return nil, err
		}
		sent.body = string(b)
	}
	r.mu.Lock()
	r.sent = append(r.sent, sent)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// check fails t if any recorded URL holds one of ids, raw or escaped, or if
// one of ids was never sent in a body: then the check would prove nothing.
func (r *recorder) check(t *testing.T, ids []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		t.Fatal("no requests recorded")
	}
	for _, id := range ids {
		forms := []string{id, url.PathEscape(id), url.QueryEscape(id)}
		inBody, leaks := false, 0
		for _, s := range r.sent {
			query, _ := url.QueryUnescape(s.url.RawQuery)
			if slices.ContainsFunc([]string{s.url.String(), s.url.Path, query}, func(u string) bool {
				return slices.ContainsFunc(forms, func(f string) bool { return strings.Contains(u, f) })
			}) {
				if leaks == 0 {
					t.Errorf("%s %s carries the identifier %q in its URL", s.method, s.url, id)
				}
				leaks++
			}
			inBody = inBody || strings.Contains(s.body, id)
		}
		if leaks > 1 {
			t.Errorf("… and %d more requests with %q in the URL", leaks-1, id)
		}
		if !inBody {
			t.Errorf("identifier %q was never sent in a request body", id)
		}
	}
}

// TestLookupRetriedOnClosedConnection has the adapter hang up on the second
// request of every connection, as a server closing an idle kept-alive
// connection does. A lookup changes nothing, so the client retries it on a new
// connection as it would a GET; a debit is not replayed blindly: its outcome is
// unknown (ETIMEOUT), for the hub to settle by operation id.
func TestLookupRetriedOnClosedConnection(t *testing.T) {
	sim := banktest.OpenSim(t)
	acct := banktest.DemandAccount(t, sim, 0).Number
	h := bankhttp.NewServer(sim, sim, nil)
	var (
		mu      sync.Mutex
		perConn = map[string]int{} // requests seen on each connection
		keySent bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		perConn[r.RemoteAddr]++
		n := perConn[r.RemoteAddr]
		_, ok := r.Header["Idempotency-Key"]
		keySent = keySent || ok
		mu.Unlock()
		if n == 2 {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, "", 10*time.Second)

	if _, err := c.Status(t.Context()); err != nil {
		t.Fatalf("Status() = %v", err)
	}
	if _, err := c.Balance(t.Context(), acct); err != nil {
		t.Errorf("Balance() on a connection the adapter closed = %v, want it retried on a new one", err)
	}
	_, err := c.Debit(t.Context(), obx.Operation{ID: "op-closed", AccountNum: acct, Amount: 1})
	banktest.WantCode(t, err, obx.ETIMEOUT)
	mu.Lock()
	defer mu.Unlock()
	if keySent {
		t.Error("the client sent an Idempotency-Key header; the marker must stay local")
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr, "", time.Second)
	_, err = c.Balance(t.Context(), "110123456789")
	banktest.WantCode(t, err, obx.EUNAVAILABLE)
	if !errors.Is(err, obx.ErrBankDown) {
		t.Errorf("Balance() = %v, want ErrBankDown", err)
	}
	_, err = c.Status(t.Context())
	if !errors.Is(err, obx.ErrBankDown) {
		t.Errorf("Status() = %v, want ErrBankDown", err)
	}
}

// TestClientTimeout checks that the HTTP client's own timeout, not only a
// context deadline, reads as ETIMEOUT: the outcome is unknown.
func TestClientTimeout(t *testing.T) {
	sim := banktest.OpenSim(t)
	_, srv := serve(t, sim)
	if err := sim.SetFaults(banksim.Faults{Latency: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL, token, 100*time.Millisecond)
	_, err := c.Debit(t.Context(), obx.Operation{ID: "op-t", AccountNum: "1", Amount: 1})
	banktest.WantCode(t, err, obx.ETIMEOUT)
	_, err = c.Status(t.Context()) // never delayed by faults
	if err != nil {
		t.Errorf("Status() = %v", err)
	}
}

func TestToken(t *testing.T) {
	_, srv := serve(t, banktest.OpenSim(t))
	for _, tok := range []string{"", "wrong", token + "x"} {
		c := newClient(t, srv.URL, tok, time.Second)
		_, err := c.Status(t.Context())
		banktest.WantCode(t, err, obx.EUNAVAILABLE) // a misconfigured hub, never a customer's EUNAUTHORIZED
		if errors.Is(err, obx.ErrBankDown) {
			t.Errorf("Status() with token %q = %v, want no ErrBankDown", tok, err)
		}
	}
	resp, err := http.Get(srv.URL + "/bank/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("GET without token = %d, want 401 with WWW-Authenticate", resp.StatusCode)
	}
}

// TestBadRequests sends malformed requests: each is a 4xx with the protocol's
// JSON error body, never a 5xx.
func TestBadRequests(t *testing.T) {
	sim := banktest.OpenSim(t)
	_, srv := serve(t, sim)
	acct := banktest.DemandAccount(t, sim, 0).Number
	const (
		js     = "application/json"
		lookup = "/bank/v1/customers/lookup"
		tx     = "/bank/v1/accounts/transactions"
	)
	txBody := func(fields string) string { return `{"account_num":"` + acct + `",` + fields + `}` }
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		code, rsp, reason               string
	}{
		{"NoContentType", "POST", "/bank/v1/signin", "", `{"login":"a","password":"b"}`, 400, "invalid", "", ""},
		{"TextBody", "POST", "/bank/v1/signin", "text/plain", `{"login":"a","password":"b"}`, 400, "invalid", "", ""},
		{"MalformedJSON", "POST", "/bank/v1/signin", js, `{"login":`, 400, "invalid", "", ""},
		{"UnknownField", "POST", "/bank/v1/signin", js, `{"login":"a","password":"b","otp":"1"}`, 400, "invalid", "", ""},
		{"TrailingData", "POST", "/bank/v1/signin", js, `{"login":"a","password":"b"} {}`, 400, "invalid", "", ""},
		{"WrongPassword", "POST", "/bank/v1/signin", js, `{"login":"user01","password":"nope"}`, 401, "unauthorized", "", ""},
		{"HugeBody", "POST", "/bank/v1/debits", js, `{"id":"` + strings.Repeat("x", 70<<10) + `"}`, 400, "invalid", "", ""},
		{"FractionalAmount", "POST", "/bank/v1/debits", js, `{"id":"a","account_num":"` + acct + `","amount":1.5}`, 400, "invalid", "", ""},
		{"StringAmount", "POST", "/bank/v1/debits", js, `{"id":"a","account_num":"` + acct + `","amount":"100"}`, 400, "invalid", "", ""},
		{"ZeroAmount", "POST", "/bank/v1/credits", js, `{"id":"a","account_num":"` + acct + `","amount":0}`, 400, "invalid", "", ""},
		{"NoAccount", "POST", "/bank/v1/debits", js, `{"id":"b","account_num":"999","amount":1}`, 422, "refused", "412", ""},
		{"AccountNoAccount", "POST", "/bank/v1/accounts/get", js, `{"account_num":"999"}`, 422, "refused", "412", ""},
		{"BalanceNoAccount", "POST", "/bank/v1/accounts/balance", js, `{"account_num":"999"}`, 422, "refused", "412", ""},
		{"BalanceNoContentType", "POST", "/bank/v1/accounts/balance", "", `{"account_num":"` + acct + `"}`, 400, "invalid", "", ""},
		{"BalanceUnknownField", "POST", "/bank/v1/accounts/balance", js, `{"account_num":"` + acct + `","num":"1"}`, 400, "invalid", "", ""},
		{"TransactionsNoAccount", "POST", tx, js, `{"account_num":"999"}`, 422, "refused", "412", ""},
		{"BadFrom", "POST", tx, js, txBody(`"from":"yesterday"`), 400, "invalid", "", ""},
		{"BadOrder", "POST", tx, js, txBody(`"order":"up"`), 400, "invalid", "", ""},
		{"BadLimit", "POST", tx, js, txBody(`"limit":"ten"`), 400, "invalid", "", ""},
		{"FractionalLimit", "POST", tx, js, txBody(`"limit":2.5`), 400, "invalid", "", ""},
		{"NegativeLimit", "POST", tx, js, txBody(`"limit":-1`), 400, "invalid", "", ""},
		{"BadDirection", "POST", tx, js, txBody(`"direction":"X"`), 400, "invalid", "", ""},
		{"BadCursor", "POST", tx, js, txBody(`"cursor":"!!!"`), 400, "invalid", "", ""},
		{"TransactionsUnknownField", "POST", tx, js, txBody(`"page":2`), 400, "invalid", "", ""},
		{"NoOperation", "GET", "/bank/v1/operations/nope", "", "", 404, "not_found", "", ""},
		{"NoCustomer", "POST", lookup, js, `{"ci":"nobody"}`, 404, "not_found", "", ""},
		{"LookupNoContentType", "POST", lookup, "", `{"ci":"nobody"}`, 400, "invalid", "", ""},
		{"LookupEmptyBody", "POST", lookup, js, ``, 400, "invalid", "", ""},
		{"LookupMalformedJSON", "POST", lookup, js, `{"ci":`, 400, "invalid", "", ""},
		{"LookupUnknownField", "POST", lookup, js, `{"ci":"nobody","name":"김민준"}`, 400, "invalid", "", ""},
		{"LookupTrailingData", "POST", lookup, js, `{"ci":"nobody"} {}`, 400, "invalid", "", ""},
		{"LookupHugeBody", "POST", lookup, js, `{"ci":"` + strings.Repeat("x", 70<<10) + `"}`, 400, "invalid", "", ""},
		{"LookupByGet", "GET", lookup, "", "", 404, "not_found", "", "no_route"},
		{"OldCustomerPath", "GET", "/bank/v1/customers/nobody", "", "", 404, "not_found", "", "no_route"},
		{"OldAccountPath", "GET", "/bank/v1/accounts/" + acct, "", "", 404, "not_found", "", "no_route"},
		{"OldBalancePath", "GET", "/bank/v1/accounts/" + acct + "/balance", "", "", 404, "not_found", "", "no_route"},
		{"OldTransactionsPath", "GET", "/bank/v1/accounts/" + acct + "/transactions", "", "", 404, "not_found", "", "no_route"},
		{"NoRoute", "GET", "/bank/v2/status", "", "", 404, "not_found", "", "no_route"},
		{"WrongMethod", "DELETE", "/bank/v1/status", "", "", 404, "not_found", "", "no_route"},
		{"BadFaults", "PUT", "/sim/v1/faults", js, `{"error_rate":3}`, 400, "invalid", "", ""},
		{"BadFaultsTime", "PUT", "/sim/v1/faults", js, `{"maintenance":true,"maintenance_until":"soon"}`, 400, "invalid", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			var raw map[string]string
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatalf("body %q is not a JSON error: %v", data, err)
			}
			if resp.StatusCode != tc.status || raw["code"] != tc.code || raw["bank_rsp_code"] != tc.rsp ||
				raw["reason"] != tc.reason || raw["message"] == "" {
				t.Errorf("%s %s = %d %s, want %d code %q bank_rsp_code %q reason %q",
					tc.method, tc.path, resp.StatusCode, data, tc.status, tc.code, tc.rsp, tc.reason)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v: want JSON and no-store", resp.Header)
			}
		})
	}
}

// TestInternalErrorHidden breaks the bank's database: the client sees
// EINTERNAL with a generic message, and the cause stays on the server.
func TestInternalErrorHidden(t *testing.T) {
	sim := banktest.OpenSim(t)
	c, srv := serve(t, sim)
	acct := banktest.DemandAccount(t, sim, 0).Number
	sim.Close()

	_, err := c.Balance(t.Context(), acct)
	banktest.WantCode(t, err, obx.EINTERNAL)
	if strings.Contains(err.Error(), "sql") {
		t.Errorf("Balance() = %v: the internal cause crossed the wire", err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/bank/v1/accounts/get", strings.NewReader(`{"account_num":"`+acct+`"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(data), "sql") {
		t.Errorf("POST accounts/get = %d %s, want 500 without the cause", resp.StatusCode, data)
	}
}

// TestNonProtocolResponses checks answers from something that is not an
// adapter, such as a proxy in front of a dead one.
func TestNonProtocolResponses(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		down   bool
	}{
		{http.StatusBadGateway, obx.EUNAVAILABLE, true},
		{http.StatusServiceUnavailable, obx.EUNAVAILABLE, true},
		{http.StatusGatewayTimeout, obx.ETIMEOUT, false},
		{http.StatusNotFound, obx.EUNAVAILABLE, false},
		{http.StatusInternalServerError, obx.EUNAVAILABLE, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream trouble", tc.status)
		}))
		c := newClient(t, srv.URL, "", time.Second)
		_, err := c.Balance(t.Context(), "1")
		srv.Close()
		if obx.ErrorCode(err) != tc.code || errors.Is(err, obx.ErrBankDown) != tc.down {
			t.Errorf("HTTP %d: Balance() = %v, want code %s (bank down %v)", tc.status, err, tc.code, tc.down)
		}
	}
}

func TestNoFaultsEndpoint(t *testing.T) {
	sim := banktest.OpenSim(t)
	srv := httptest.NewServer(bankhttp.NewServer(sim, nil, nil))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, "", time.Second)
	err := c.SetFaults(t.Context(), banksim.Faults{Down: true})
	banktest.WantCode(t, err, obx.EUNAVAILABLE)
	if _, err := c.Status(t.Context()); err != nil {
		t.Errorf("Status() = %v", err)
	}
}

func TestFaultsRoundTrip(t *testing.T) {
	c, _ := serve(t, banktest.OpenSim(t))
	want := banksim.Faults{
		Latency: 250 * time.Millisecond, ErrorRate: 0.1, TimeoutRate: 0.05, LostResponseRate: 0.02,
		Maintenance: true, MaintenanceUntil: banktest.Epoch.Add(-time.Hour),
	}
	if err := c.SetFaults(t.Context(), want); err != nil {
		t.Fatalf("SetFaults() = %v", err)
	}
	got, err := c.Faults(t.Context())
	if err != nil {
		t.Fatalf("Faults() = %v", err)
	}
	if got != want {
		t.Errorf("Faults() = %+v, want %+v", got, want)
	}
	if err := c.SetFaults(context.Background(), banksim.Faults{}); err != nil {
		t.Fatal(err)
	}
}

func TestNewClient(t *testing.T) {
	for _, cfg := range []bankhttp.Config{
		{Code: "88", BaseURL: "http://localhost"},
		{Code: "08a", BaseURL: "http://localhost"},
		{Code: "088", BaseURL: "localhost:9000"},
		{Code: "088", BaseURL: "ftp://localhost"},
		{Code: "088", BaseURL: "http://localhost/?x=1"},
	} {
		_, err := bankhttp.NewClient(cfg)
		banktest.WantCode(t, err, obx.EINVALID)
	}
	c, err := bankhttp.NewClient(bankhttp.Config{Code: "088", BaseURL: "http://localhost:9088/"})
	if err != nil || c.Name() != "088" || c.Code() != "088" {
		t.Errorf("NewClient() = %v, %v", c, err)
	}
}

// FuzzServerRequests feeds arbitrary bodies to the money endpoints: whatever
// arrives, the answer is a 2xx or 4xx, never a 5xx.
func FuzzServerRequests(f *testing.F) {
	sim := banktest.OpenSim(f)
	acct := banktest.DemandAccount(f, sim, 0).Number
	h := bankhttp.NewServer(sim, sim, nil)
	f.Add(`{"id":"f1","account_num":"`+acct+`","amount":1}`, true)
	f.Add(`{"id":"f2","account_num":"`+acct+`","amount":9223372036854775807}`, false)
	f.Add(`{"id":"","amount":-1}`, true)
	f.Add(`[]`, false)
	f.Add(`{"id":"f3","account_num":"`+acct+`","amount":1e3}`, true)
	f.Fuzz(func(t *testing.T, body string, credit bool) {
		path := "/bank/v1/debits"
		if credit {
			path = "/bank/v1/credits"
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q = %d %s", path, body, w.Code, w.Body)
		}
	})
}

// FuzzLookupRequests feeds arbitrary bodies to the lookups by CI and account
// number: the answer is a 2xx or 4xx, never a 5xx.
func FuzzLookupRequests(f *testing.F) {
	sim := banktest.OpenSim(f)
	acct := banktest.DemandAccount(f, sim, 0).Number
	ci := banksim.DemoLogins(banktest.Code, banktest.Seed)[0].CI
	h := bankhttp.NewServer(sim, sim, nil)
	paths := []string{
		"/bank/v1/customers/lookup", "/bank/v1/accounts/get",
		"/bank/v1/accounts/balance", "/bank/v1/accounts/transactions",
	}
	f.Add(`{"ci":"`+ci+`"}`, uint8(0))
	f.Add(`{"account_num":"`+acct+`"}`, uint8(1))
	f.Add(`{"account_num":"`+acct+`"}`, uint8(2))
	f.Add(`{"account_num":"`+acct+`","from":"2025-01-01T00:00:00Z","to":"2025-06-16T00:00:00+09:00","direction":"I","order":"asc","limit":3}`, uint8(3))
	f.Add(`{"account_num":"`+acct+`","cursor":"0000000000a1","limit":9223372036854775807}`, uint8(3))
	f.Add(`{"account_num":null}`, uint8(2))
	f.Fuzz(func(t *testing.T, body string, endpoint uint8) {
		path := paths[int(endpoint)%len(paths)]
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q = %d %s", path, body, w.Code, w.Body)
		}
	})
}
