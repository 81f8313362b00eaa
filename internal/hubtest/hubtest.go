// Package hubtest is a small TSP-side client of a running hub, for tests that
// drive the hub over real HTTP: the sandbox's headless consent, the token
// endpoint through golang.org/x/oauth2 (the client a Go TSP would use), and
// KFTC API calls that return the decoded JSON.
package hubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TSP is one TSP app's view of a hub.
type TSP struct {
	Base          string // the hub's base URL
	ClientID      string
	ClientSecret  string
	ClientUseCode string
	RedirectURI   string
	HTTP          *http.Client // never follows redirects

	seq atomic.Int64
}

// NewTSP returns a client for the app with the given credentials.
func NewTSP(base, clientID, secret, useCode, redirectURI string) *TSP {
	return &TSP{
		Base: base, ClientID: clientID, ClientSecret: secret, ClientUseCode: useCode, RedirectURI: redirectURI,
		HTTP: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// OAuth2 returns the golang.org/x/oauth2 configuration of the app. KFTC
// clients send their credentials in the form body.
func (c *TSP) OAuth2(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.Base + "/oauth/2.0/authorize",
			TokenURL:  c.Base + "/oauth/2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// Context returns a context whose oauth2 calls use the TSP's HTTP client.
func (c *TSP) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.HTTP)
}

// Consent completes authorize headlessly through the sandbox endpoint as the
// customer with login/password at bank, for scope (e.g. "login inquiry"), and
// returns the redirect's query (code, scope, state, client_info or error).
// accounts, when given, picks accounts by number; otherwise all are chosen.
func (c *TSP) Consent(t testing.TB, bank, login, password, scope string, extra url.Values, accounts ...string) url.Values {
	t.Helper()
	form := url.Values{
		"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {c.RedirectURI},
		"scope": {scope}, "state": {"0123456789abcdef0123456789abcdef"}, "auth_type": {"0"},
		"client_info": {"test-info"}, "bank_code_std": {bank}, "login": {login}, "password": {password},
		"agree": {"Y"},
	}
	for k, v := range extra {
		form[k] = v
	}
	for _, a := range accounts {
		form.Add("account_num", a)
	}
	resp, err := c.HTTP.PostForm(c.Base+"/oauth/2.0/sandbox/authorize", form)
	if err != nil {
		t.Fatalf("sandbox authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("sandbox authorize: status %d, want a redirect: %.300s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("sandbox authorize: bad Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != c.RedirectURI {
		t.Fatalf("redirected to %s, want %s", got, c.RedirectURI)
	}
	return loc.Query()
}

// Exchange trades a code for tokens with golang.org/x/oauth2.
func (c *TSP) Exchange(t testing.TB, code string) *oauth2.Token {
	t.Helper()
	tok, err := c.OAuth2().Exchange(c.Context(context.Background()), code)
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	return tok
}

// InstitutionToken gets a client-credentials token with scope (oob or sa).
func (c *TSP) InstitutionToken(t testing.TB, scope string) string {
	t.Helper()
	body := c.PostForm(t, "/oauth/2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "scope": {scope},
	})
	tok, _ := body["access_token"].(string)
	if tok == "" {
		t.Fatalf("client_credentials %s: %v", scope, body)
	}
	return tok
}

// PostForm posts a form without a token and decodes the JSON answer.
func (c *TSP) PostForm(t testing.TB, path string, form url.Values) map[string]any {
	t.Helper()
	resp, err := c.HTTP.PostForm(c.Base+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return decode(t, resp)
}

// BankTranID returns a fresh bank_tran_id of the TSP: its code, U, 9 characters.
func (c *TSP) BankTranID() string {
	return fmt.Sprintf("%sU%09d", c.ClientUseCode, c.seq.Add(1)+time.Now().UnixNano()%1e8)
}

// kst is the zone of every time on the KFTC wire.
var kst = time.FixedZone("KST", 9*60*60)

// TranDtime is a valid tran_dtime for now, in KST.
func TranDtime() string { return time.Now().In(kst).Format("20060102150405") }

// Today is today's date in KST, as bank_tran_date and org_bank_tran_date carry it.
func Today() string { return time.Now().In(kst).Format("20060102") }

// Get calls a KFTC GET API with token and query params.
func (c *TSP) Get(t testing.TB, token, path string, params url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", c.Base+path+"?"+params.Encode(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(t, req)
}

// Post calls a KFTC POST API with token and a JSON body.
func (c *TSP) Post(t testing.TB, token, path string, body any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", c.Base+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(t, req)
}

// Do sends req and decodes the JSON answer, which must come with HTTP 200.
func (c *TSP) Do(t testing.TB, req *http.Request) map[string]any {
	t.Helper()
	return c.do(t, req)
}

func (c *TSP) do(t testing.TB, req *http.Request) map[string]any {
	t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return decode(t, resp)
}

func decode(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d, want 200: %.300s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %.300s", resp.Request.Method, resp.Request.URL.Path, b)
	}
	return m
}

// Code returns a response's rsp_code.
func Code(m map[string]any) string { s, _ := m["rsp_code"].(string); return s }

// Str returns a string field.
func Str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// List returns a list field as objects.
func List(m map[string]any, k string) []map[string]any {
	raw, _ := m[k].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		if o, ok := r.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}
