package oauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/oauth"
)

// browser is a cookie-keeping user agent that does not follow redirects.
type browser struct {
	t    *testing.T
	env  *testEnv
	http *http.Client
	page *html.Node // the last page
	resp *http.Response
}

func newBrowser(t *testing.T, env *testEnv) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, env: env, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends req and parses an HTML answer.
func (b *browser) do(req *http.Request) *http.Response {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.resp, b.page = resp, nil
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if b.page, err = html.Parse(strings.NewReader(string(body))); err != nil {
			b.t.Fatal(err)
		}
	}
	return resp
}

func (b *browser) get(path string, header http.Header) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.env.srv.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

// submit posts the page's form (the first one) with its hidden fields plus
// fields, to action (the form's own when "").
func (b *browser) submit(action string, fields url.Values) *http.Response {
	b.t.Helper()
	form := find(b.page, tagIs("form"))
	if form == nil {
		b.t.Fatalf("no form on the page: %s", b.text())
	}
	if action == "" {
		action = attr(form, "action")
	}
	values := url.Values{}
	for _, in := range findAll(form, tagIs("input")) {
		if attr(in, "type") == "hidden" {
			values.Set(attr(in, "name"), attr(in, "value"))
		}
	}
	for k, v := range fields {
		values[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+action, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// title returns the id="page-title" heading's text.
func (b *browser) title() string {
	b.t.Helper()
	if b.page == nil {
		b.t.Fatalf("no page: status %d, Location %q", b.resp.StatusCode, b.resp.Header.Get("Location"))
	}
	return text(find(b.page, idIs("page-title")))
}

func (b *browser) text() string {
	if b.page == nil {
		return ""
	}
	return text(b.page)
}

// wantPage checks the status and that the page is the one whose title starts with title.
func (b *browser) wantPage(status int, title string) {
	b.t.Helper()
	if b.resp.StatusCode != status || !strings.HasPrefix(b.title(), title) {
		b.t.Fatalf("page = %d %q, want %d %q: %.500s", b.resp.StatusCode, b.title(), status, title, b.text())
	}
}

// HTML helpers on golang.org/x/net/html.

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if all := findAll(n, match); len(all) > 0 {
		return all[0]
	}
	return nil
}

func tagIs(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

func idIs(id string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == id }
}

func attr(n *html.Node, name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var sb strings.Builder
	for _, t := range findAll(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		sb.WriteString(t.Data)
	}
	return strings.Join(strings.Fields(sb.String()), " ")
}

// TestBrowserFlow walks the consent pages as a browser would, through every
// step, and checks the pages' security headers and structure on the way.
func TestBrowserFlow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app

		// start goes as far as the summary page.
		start := func(t *testing.T, path string) *browser {
			b := newBrowser(t, env)
			b.get(path+"?"+app.authorizeParams("login inquiry transfer").Encode(), nil)
			b.wantPage(http.StatusOK, "은행 선택")
			for h, want := range map[string]string{
				"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"X-Frame-Options":         "DENY",
				"Cache-Control":           "no-store",
			} {
				if got := b.resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if h := find(b.page, tagIs("html")); attr(h, "lang") != "ko" {
				t.Errorf(`<html lang> = %q, want "ko"`, attr(h, "lang"))
			}
			if find(b.page, func(n *html.Node) bool { return attr(n, "name") == "viewport" }) == nil {
				t.Error("no viewport meta")
			}
			if find(b.page, tagIs("script")) != nil || find(b.page, tagIs("style")) != nil {
				t.Error("page has inline script or style")
			}
			if find(b.page, tagIs("legend")) == nil || find(b.page, tagIs("fieldset")) == nil {
				t.Error("form without fieldset/legend")
			}
			var flowCookie *http.Cookie
			for _, c := range b.resp.Cookies() {
				if strings.HasPrefix(c.Name, "obx_flow_") {
					flowCookie = c
				}
			}
			if flowCookie == nil || !flowCookie.HttpOnly || flowCookie.SameSite != http.SameSiteLaxMode {
				t.Errorf("flow cookie = %+v, want HttpOnly, SameSite=Lax", flowCookie)
			}

			b.submit("", url.Values{"bank_code_std": {bankCode}})
			b.wantPage(http.StatusOK, "오픈은행 로그인")
			b.submit("", url.Values{"login": {env.cust.Login}, "password": {"wrong"}})
			b.wantPage(http.StatusOK, "오픈은행 로그인")
			if text(find(b.page, idIs("attempts-left"))) != "4" {
				t.Errorf("after a wrong password: attempts left %q", text(find(b.page, idIs("attempts-left"))))
			}
			if find(b.page, func(n *html.Node) bool { return attr(n, "role") == "alert" }) == nil {
				t.Error("no error shown after a wrong password")
			}
			b.submit("", url.Values{"login": {env.cust.Login}, "password": {env.cust.Password}})
			b.wantPage(http.StatusOK, "계좌 선택")
			boxes := findAll(b.page, func(n *html.Node) bool { return attr(n, "type") == "checkbox" })
			if len(boxes) == 0 {
				t.Fatal("no accounts to choose")
			}
			for _, n := range findAll(b.page, tagIs("label")) {
				if !strings.Contains(text(n), "***") {
					t.Errorf("account label %q is not masked", text(n))
				}
			}
			b.submit("", url.Values{"account": {attr(boxes[0], "value")}})
			b.wantPage(http.StatusOK, "정보 제공 동의")
			if got := text(find(b.page, idIs("client-name"))); got != app.client.Name {
				t.Errorf("client name = %q, want %q", got, app.client.Name)
			}
			if got := text(find(b.page, idIs("tsp-name"))); got != app.tsp.Name {
				t.Errorf("TSP name = %q, want %q", got, app.tsp.Name)
			}
			var scopes []string
			for _, li := range findAll(find(b.page, idIs("scopes")), tagIs("li")) {
				scopes = append(scopes, attr(li, "data-scope"))
			}
			if strings.Join(scopes, " ") != "login inquiry transfer" {
				t.Errorf("scopes explained = %v", scopes)
			}
			if n := len(findAll(find(b.page, idIs("accounts")), tagIs("li"))); n != 1 {
				t.Errorf("summary lists %d accounts, want 1", n)
			}
			now := env.clock.Now().In(time.FixedZone("KST", 9*60*60))
			for id, want := range map[string]string{
				"access-until":  now.Add(oauth.DefaultAccessTTL).Format("2006-01-02"),
				"consent-until": now.Add(oauth.DefaultConsentTTL).Format("2006-01-02"),
			} {
				if got := text(find(find(b.page, idIs(id)), tagIs("time"))); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			return b
		}

		t.Run("Agree", func(t *testing.T) {
			b := start(t, "/oauth/2.0/authorize")
			summary := b.page
			q := redirected(t, b.submit("", url.Values{"decision": {"agree"}}))
			if q.Get("code") == "" || q.Get("state") != testState || q.Get("scope") != "login inquiry transfer" || q.Get("client_info") != "info-123" {
				t.Fatalf("callback = %v", q)
			}
			m := env.exchange(t, app, q.Get("code"), nil)
			p, err := env.o.Introspect(context.Background(), str(m, "access_token"))
			if err != nil {
				t.Fatal(err)
			}
			accts, err := env.db.Accounts(context.Background(), app.tsp.ID, p.UserSeqNo, false)
			if err != nil || len(accts) != 1 {
				t.Fatalf("registered accounts = %v, %v; want 1", accts, err)
			}
			if accts[0].InquiryAgreedAt.IsZero() || accts[0].TransferAgreedAt.IsZero() {
				t.Errorf("account consents = %+v, want inquiry and transfer", accts[0])
			}
			if want := env.clock.Now().Add(oauth.DefaultConsentTTL); accts[0].InquiryExpiresAt.Sub(want).Abs() > time.Second {
				t.Errorf("consent expires %v, want a year from now", accts[0].InquiryExpiresAt)
			}
			// The flow is single-use: submitting the summary again fails.
			b.page = summary
			b.submit("", url.Values{"decision": {"agree"}})
			b.wantPage(http.StatusNotFound, "요청을 처리할 수 없습니다")
		})

		t.Run("Refuse", func(t *testing.T) {
			b := start(t, "/oauth/2.0/authorize_account")
			q := redirected(t, b.submit("", url.Values{"decision": {"refuse"}}))
			if q.Get("error") != "access_denied" || q.Get("state") != testState || q.Get("code") != "" || q.Get("error_description") == "" {
				t.Errorf("callback = %v, want access_denied with state", q)
			}
		})

		t.Run("CancelOnFirstPage", func(t *testing.T) {
			b := newBrowser(t, env)
			b.get("/oauth/2.0/authorize?"+app.authorizeParams("login").Encode(), nil)
			q := redirected(t, b.submit("/oauth/2.0/consent/decide", url.Values{"decision": {"refuse"}}))
			if q.Get("error") != "access_denied" {
				t.Errorf("callback = %v, want access_denied", q)
			}
		})

		t.Run("CSRF", func(t *testing.T) {
			b := newBrowser(t, env)
			b.get("/oauth/2.0/authorize?"+app.authorizeParams("login").Encode(), nil)
			page := b.page
			b.submit("", url.Values{"bank_code_std": {bankCode}, "csrf_token": {"AAAAAAAAAAAAAAAAAAAAAAAAAA"}})
			b.wantPage(http.StatusForbidden, "요청을 처리할 수 없습니다")

			// Without the cookie (another browser), the right token is not enough.
			other := newBrowser(t, env)
			other.page = page
			other.submit("", url.Values{"bank_code_std": {bankCode}})
			other.wantPage(http.StatusForbidden, "요청을 처리할 수 없습니다")

			// An unknown flow.
			other.page = page
			other.submit("", url.Values{"flow": {"AAAAAAAAAAAAAAAAAAAAAAAAAA"}})
			other.wantPage(http.StatusNotFound, "요청을 처리할 수 없습니다")
		})

		t.Run("SignInThrottle", func(t *testing.T) {
			b := newBrowser(t, env)
			b.get("/oauth/2.0/authorize?"+app.authorizeParams("login").Encode(), nil)
			b.submit("", url.Values{"bank_code_std": {bankCode}})
			for i := 1; i < 5; i++ {
				b.submit("", url.Values{"login": {env.cust.Login}, "password": {"wrong"}})
				b.wantPage(http.StatusOK, "오픈은행 로그인")
				if got := text(find(b.page, idIs("attempts-left"))); got != strconv.Itoa(5-i) {
					t.Errorf("attempts left = %s, want %d", got, 5-i)
				}
			}
			page := b.page
			q := redirected(t, b.submit("", url.Values{"login": {env.cust.Login}, "password": {"wrong"}}))
			if q.Get("error") != "access_denied" {
				t.Errorf("after 5 failures: %v, want access_denied", q)
			}
			b.page = page // the flow is dead, even with the right password
			b.submit("", url.Values{"login": {env.cust.Login}, "password": {env.cust.Password}})
			b.wantPage(http.StatusNotFound, "요청을 처리할 수 없습니다")
		})

		t.Run("ExpiredFlow", func(t *testing.T) {
			b := newBrowser(t, env)
			b.get("/oauth/2.0/authorize?"+app.authorizeParams("login").Encode(), nil)
			env.clock.Advance(16 * time.Minute)
			b.submit("", url.Values{"bank_code_std": {bankCode}})
			b.wantPage(http.StatusNotFound, "요청을 처리할 수 없습니다")
		})
	})
}

// TestAuthTypeSkip checks auth_type 2: valid Kftc-Bfop headers skip the bank
// sign-in and go to a re-consent of the registered accounts; invalid ones fall
// back to the full flow.
func TestAuthTypeSkip(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app
		m := env.userToken(t, app, "login inquiry")
		seq := str(m, "user_seq_no")
		params := app.authorizeParams("login inquiry transfer")
		params.Set("auth_type", "2")
		header := http.Header{
			"Kftc-Bfop-Userseqno":   {seq},
			"Kftc-Bfop-Userci":      {env.cust.CI},
			"Kftc-Bfop-Accesstoken": {str(m, "access_token")},
		}

		b := newBrowser(t, env)
		b.get("/oauth/2.0/authorize?"+params.Encode(), header)
		b.wantPage(http.StatusOK, "동의 갱신")
		registered, err := env.db.Accounts(context.Background(), app.tsp.ID, seq, false)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(findAll(find(b.page, idIs("accounts")), tagIs("li"))); n != len(registered) {
			t.Errorf("re-consent lists %d accounts, want the %d registered", n, len(registered))
		}
		q := redirected(t, b.submit("", url.Values{"decision": {"agree"}}))
		tok := env.exchange(t, app, q.Get("code"), nil)
		if str(tok, "user_seq_no") != seq || str(tok, "scope") != "login inquiry transfer" {
			t.Errorf("token after re-consent = %v", tok)
		}
		after, _ := env.db.Accounts(context.Background(), app.tsp.ID, seq, false)
		for _, a := range after {
			if a.TransferAgreedAt.IsZero() {
				t.Errorf("account %s has no transfer consent after re-consent", a.FintechUseNum)
			}
		}

		for name, h := range map[string]http.Header{
			"WrongCI":    {"Kftc-Bfop-Userseqno": {seq}, "Kftc-Bfop-Userci": {"x"}, "Kftc-Bfop-Accesstoken": {str(m, "access_token")}},
			"WrongToken": {"Kftc-Bfop-Userseqno": {seq}, "Kftc-Bfop-Userci": {env.cust.CI}, "Kftc-Bfop-Accesstoken": {"bad.token"}},
			"NoHeaders":  nil,
		} {
			t.Run(name, func(t *testing.T) {
				b := newBrowser(t, env)
				b.get("/oauth/2.0/authorize?"+params.Encode(), h)
				b.wantPage(http.StatusOK, "은행 선택")
			})
		}
	})
}

// TestAuthorizeErrors checks that a bad client or redirect_uri gets the error
// page (never a redirect), and that later errors redirect with error and state.
func TestAuthorizeErrors(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app
		limited := env.newApp(t, "M202600005", false, obx.EnvSandbox, "login")
		live := env.newApp(t, "M202600006", false, obx.EnvLive, "login", "inquiry")

		for _, tc := range []struct {
			name   string
			params url.Values
		}{
			{"UnknownClient", with(app.authorizeParams("login"), "client_id", "nope")},
			{"NoClient", with(app.authorizeParams("login"), "client_id", "")},
			{"RedirectMismatch", with(app.authorizeParams("login"), "redirect_uri", "https://evil.example/cb")},
			{"RedirectPrefix", with(app.authorizeParams("login"), "redirect_uri", redirectURI+"/x")},
			{"NoRedirect", with(app.authorizeParams("login"), "redirect_uri", "")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := newBrowser(t, env)
				resp := b.get("/oauth/2.0/authorize?"+tc.params.Encode(), nil)
				if resp.Header.Get("Location") != "" {
					t.Fatalf("redirected to %s", resp.Header.Get("Location"))
				}
				b.wantPage(http.StatusBadRequest, "요청을 처리할 수 없습니다")
			})
		}

		for _, tc := range []struct {
			name          string
			app           *testApp
			params        url.Values
			error, detail string
		}{
			{"UnknownScope", app, with(app.authorizeParams("login cardinfo"), "", ""), "invalid_scope", "[3000115]"},
			{"UnregisteredScope", limited, limited.authorizeParams("login inquiry"), "invalid_scope", "[3000115]"},
			{"OnlyOOB", app, app.authorizeParams("oob"), "invalid_request", "[3000103]"},
			{"ResponseType", app, with(app.authorizeParams("login"), "response_type", "token"), "unsupported_response_type", "[3000116]"},
			{"ShortState", app, with(app.authorizeParams("login"), "state", "abc"), "invalid_request", "[3000103]"},
			{"AuthType", app, with(app.authorizeParams("login"), "auth_type", "9"), "invalid_request", "[3000103]"},
			{"PlainPKCE", app, with(app.authorizeParams("login"), "code_challenge", "abc"), "invalid_request", "[3000103]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := newBrowser(t, env)
				q := redirected(t, b.get("/oauth/2.0/authorize?"+tc.params.Encode(), nil))
				if q.Get("error") != tc.error || !strings.Contains(q.Get("error_description"), tc.detail) {
					t.Errorf("callback = %v, want error %s with %s", q, tc.error, tc.detail)
				}
				if tc.params.Get("state") == testState && q.Get("state") != testState {
					t.Errorf("state not echoed: %v", q)
				}
			})
		}

		t.Run("OOBIgnoredInUserScope", func(t *testing.T) {
			q := env.consent(t, app, "login inquiry transfer oob", nil)
			if q.Get("code") == "" || q.Get("scope") != "login inquiry transfer" {
				t.Errorf("callback = %v, want a code for the user scopes", q)
			}
		})

		t.Run("HeadlessRefused", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				app   *testApp
				extra url.Values
				error string
			}{
				{"Disagree", app, url.Values{"agree": {"N"}}, "access_denied"},
				{"WrongPassword", app, url.Values{"password": {"wrong"}}, "access_denied"},
				{"UnknownBank", app, url.Values{"bank_code_std": {"999"}}, "invalid_request"},
				{"UnknownAccount", app, url.Values{"account_num": {"000000000000"}}, "invalid_request"},
				{"LiveClient", live, nil, "unauthorized_client"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					q := env.consent(t, tc.app, "login inquiry", tc.extra)
					if q.Get("error") != tc.error || q.Get("state") != testState {
						t.Errorf("callback = %v, want %s", q, tc.error)
					}
				})
			}
		})
	})
}

// TestProductionHasNoSandboxEndpoint checks that the headless consent exists
// only in sandbox mode.
func TestProductionHasNoSandboxEndpoint(t *testing.T) {
	env := newEnv(t, dbtest.Engines()[0], envOptions{production: true})
	form := env.app.authorizeParams("login")
	form.Set("agree", "Y")
	resp, err := env.http.PostForm(env.srv.URL+"/oauth/2.0/sandbox/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /oauth/2.0/sandbox/authorize in production = %d, want 404", resp.StatusCode)
	}
	b := newBrowser(t, env)
	b.get("/oauth/2.0/authorize?"+env.app.authorizeParams("login").Encode(), nil)
	b.wantPage(http.StatusOK, "은행 선택")
}

func with(v url.Values, kv ...string) url.Values {
	v = cloneValues(v)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "" {
			continue
		}
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}
