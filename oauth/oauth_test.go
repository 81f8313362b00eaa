package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankguard"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/sqlstore"
)

const (
	redirectURI = "https://app.example/cb"
	testState   = "0123456789abcdef0123456789abcdef"
	bankCode    = banksim.TestbedBankCode // every demo customer banks there
)

// testClock is the injected clock; it starts at the wall clock, because fosite
// checks expiry against time.Now too, and only moves forward.
type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is an authorization server on a fresh database and a simulated
// bank, served over real HTTP.
type testEnv struct {
	srv   *httptest.Server
	o     *oauth.Server
	db    *sqlstore.DB
	clock *testClock
	banks *bankguard.Directory
	app   *testApp // a sandbox client of an ordinary TSP, with every user scope and oob
	cust  banksim.DemoCustomer
	http  *http.Client // does not follow redirects
}

// testApp is one registered client and its credentials.
type testApp struct {
	tsp    *obx.TSP
	client *obx.Client
	secret string
}

type envOptions struct {
	production bool         // Config.Sandbox false
	logger     *slog.Logger // default discards
}

func newEnv(t testing.TB, e dbtest.Engine, opts envOptions) *testEnv {
	t.Helper()
	ctx := context.Background()
	env := &testEnv{
		db:    dbtest.Open(t, e),
		clock: &testClock{t: time.Now().UTC()},
		http: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	env.db.Now = env.clock.Now
	bank, err := banksim.Open(ctx, banksim.Config{Code: bankCode, Seed: 1, DSN: filepath.Join(t.TempDir(), "bank.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bank.Close() })
	env.banks = bankguard.New(bankguard.Config{Timeout: 5 * time.Second, FailureThreshold: 100, OpenFor: time.Second}, bank)
	env.cust = banksim.DemoCustomers(1)[0]

	env.o, err = oauth.New(oauth.Config{
		Participants: env.db, Accounts: env.db, Tokens: env.db, Flows: env.db, Banks: env.banks,
		Secret:  []byte("0123456789abcdef0123456789abcdef-test"),
		Sandbox: !opts.production,
		Now:     env.clock.Now,
		Logger:  opts.logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	env.o.Register(mux)
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	env.app = env.newApp(t, "T991000001", false, obx.EnvSandbox, "login", "inquiry", "transfer", "oob")
	return env
}

// newApp registers a TSP with one client.
func (env *testEnv) newApp(t testing.TB, code string, selfAuth bool, clientEnv string, scopes ...string) *testApp {
	t.Helper()
	ctx := context.Background()
	tsp := &obx.TSP{Name: "핀테크 " + code, ClientUseCode: code, Status: obx.TSPActive, SelfAuth: selfAuth}
	if err := env.db.CreateTSP(ctx, tsp); err != nil {
		t.Fatal(err)
	}
	id, secret := oauth.NewClientCredentials()
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	c := &obx.Client{ID: id, TSPID: tsp.ID, Name: "앱 " + code, SecretHash: hash,
		RedirectURIs: []string{redirectURI}, Scopes: scopes, Env: clientEnv}
	if err := env.db.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	return &testApp{tsp: tsp, client: c, secret: secret}
}

// authorizeParams returns the authorize parameters of app with scope.
func (app *testApp) authorizeParams(scope string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {app.client.ID}, "redirect_uri": {redirectURI},
		"scope": {scope}, "state": {testState}, "auth_type": {"0"}, "client_info": {"info-123"},
	}
}

// redirected checks that resp is a 302 to the registered redirect URI and
// returns its query.
func redirected(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want 302: %.400s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	return loc.Query()
}

// consent runs the headless sandbox consent as the demo customer and returns
// the redirect's query. extra overrides or adds form fields.
func (env *testEnv) consent(t *testing.T, app *testApp, scope string, extra url.Values) url.Values {
	t.Helper()
	form := app.authorizeParams(scope)
	form.Set("bank_code_std", bankCode)
	form.Set("login", env.cust.Login)
	form.Set("password", env.cust.Password)
	form.Set("agree", "Y")
	for k, v := range extra {
		form[k] = v
	}
	resp, err := env.http.PostForm(env.srv.URL+"/oauth/2.0/sandbox/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return redirected(t, resp)
}

// code runs a successful headless consent and returns the code.
func (env *testEnv) code(t *testing.T, app *testApp, scope string, extra url.Values) string {
	t.Helper()
	q := env.consent(t, app, scope, extra)
	if q.Get("code") == "" {
		t.Fatalf("consent: no code: %v", q)
	}
	return q.Get("code")
}

// post posts form to path (with an optional query) and returns the decoded
// JSON object, which must come with HTTP 200, and the response.
func (env *testEnv) post(t *testing.T, path string, form url.Values) (map[string]any, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	return env.do(t, req)
}

func (env *testEnv) do(t *testing.T, req *http.Request) (map[string]any, *http.Response) {
	t.Helper()
	resp, err := env.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d, want 200: %.300s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: not a JSON object: %.300s", req.Method, req.URL.Path, b)
	}
	return m, resp
}

// exchange trades code at the token endpoint with client_secret_post.
func (env *testEnv) exchange(t *testing.T, app *testApp, code string, extra url.Values) map[string]any {
	t.Helper()
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {app.client.ID}, "client_secret": {app.secret},
	}
	for k, v := range extra {
		form[k] = v
	}
	m, _ := env.post(t, "/oauth/2.0/token", form)
	return m
}

// userToken consents and exchanges the code, returning the token response.
func (env *testEnv) userToken(t *testing.T, app *testApp, scope string) map[string]any {
	t.Helper()
	m := env.exchange(t, app, env.code(t, app, scope, nil), nil)
	if str(m, "access_token") == "" {
		t.Fatalf("token response: %v", m)
	}
	return m
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// wantRsp checks a KFTC failure envelope: exactly rsp_code and rsp_message.
func wantRsp(t *testing.T, m map[string]any, code, sub string) {
	t.Helper()
	if got := keys(m); !slices.Equal(got, []string{"rsp_code", "rsp_message"}) {
		t.Errorf("envelope fields = %v, want rsp_code, rsp_message: %v", got, m)
	}
	if str(m, "rsp_code") != code || !strings.Contains(str(m, "rsp_message"), sub) {
		t.Errorf("got %s %q, want %s with %q", str(m, "rsp_code"), str(m, "rsp_message"), code, sub)
	}
}

// pkcePair returns a code verifier and its S256 challenge.
func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("v", 20) + "-0123456789abcdefghijklmnopqrstuvwxyz"
	h := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(h[:])
}
