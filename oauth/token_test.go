package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/oauth"
)

// TestEndToEnd drives the whole 3-legged life cycle with golang.org/x/oauth2 as
// the client: headless consent, code exchange, refresh with rotation,
// revocation, and introspection after each step.
func TestEndToEnd(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, env.http)
		conf := &oauth2.Config{
			ClientID: app.client.ID, ClientSecret: app.secret, RedirectURL: redirectURI,
			Endpoint: oauth2.Endpoint{
				AuthURL:   env.srv.URL + "/oauth/2.0/authorize",
				TokenURL:  env.srv.URL + "/oauth/2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		}

		q := env.consent(t, app, "login inquiry transfer", nil)
		if got := slices.Sorted(maps.Keys(q)); !slices.Equal(got, []string{"client_info", "code", "scope", "state"}) {
			t.Errorf("callback parameters = %v, want exactly code, scope, state, client_info", got)
		}
		if q.Get("state") != testState || q.Get("client_info") != "info-123" || q.Get("scope") != "login inquiry transfer" {
			t.Errorf("callback = %v; want state and client_info echoed, scope granted", q)
		}

		tok, err := conf.Exchange(ctx, q.Get("code"))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		seq, _ := tok.Extra("user_seq_no").(string)
		if len(seq) != 10 || tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
			t.Fatalf("token = %+v, user_seq_no %q", tok, seq)
		}
		if d := time.Until(tok.Expiry); d < 89*24*time.Hour || d > 91*24*time.Hour {
			t.Errorf("token expires in %v, want 90 days", d)
		}
		p, err := env.o.Introspect(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("Introspect: %v", err)
		}
		want := &obx.Principal{ClientID: app.client.ID, TSPID: app.tsp.ID, ClientUseCode: app.tsp.ClientUseCode,
			Env: obx.EnvSandbox, UserSeqNo: seq, Scopes: []string{"login", "inquiry", "transfer"}, Linked: true}
		if diff := cmp.Diff(want, p, cmpIgnoreTimes); diff != "" {
			t.Errorf("Introspect (-want +got):\n%s", diff)
		}
		if p.ExpiresAt.Sub(p.IssuedAt) != oauth.DefaultAccessTTL {
			t.Errorf("principal valid %v → %v, want 90 days", p.IssuedAt, p.ExpiresAt)
		}

		// Refresh rotates: a new pair, and the old access token dies.
		refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken || refreshed.RefreshToken == "" {
			t.Errorf("refresh did not rotate both tokens")
		}
		if s, _ := refreshed.Extra("user_seq_no").(string); s != seq {
			t.Errorf("refreshed user_seq_no = %q, want %q", s, seq)
		}
		if _, err := env.o.Introspect(ctx, tok.AccessToken); obx.ErrorCode(err) != obx.EUNAUTHORIZED {
			t.Errorf("Introspect(old access token) = %v, want unauthorized", err)
		}
		if _, err := env.o.Introspect(ctx, refreshed.AccessToken); err != nil {
			t.Errorf("Introspect(new access token): %v", err)
		}

		// Revoke the new access token: its refresh token goes with it.
		m, resp := env.post(t, "/oauth/2.0/revoke", url.Values{
			"client_id": {app.client.ID}, "client_secret": {app.secret}, "access_token": {refreshed.AccessToken},
		})
		wantRevoke := map[string]any{"rsp_code": "A0000", "rsp_message": "", "client_id": app.client.ID,
			"client_secret": "", "access_token": refreshed.AccessToken, "refresh_token": ""}
		if diff := cmp.Diff(wantRevoke, m); diff != "" {
			t.Errorf("revoke response (-want +got):\n%s", diff)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("revoke Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
		if _, err := env.o.Introspect(ctx, refreshed.AccessToken); obx.ErrorCode(err) != obx.EUNAUTHORIZED {
			t.Errorf("Introspect(revoked) = %v, want unauthorized", err)
		}
		m, _ = env.post(t, "/oauth/2.0/token", url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {refreshed.RefreshToken}, "client_id": {app.client.ID}, "client_secret": {app.secret},
			"scope": {"login inquiry transfer"}})
		wantRsp(t, m, "O0001", "[3002110]")
	})
}

var cmpIgnoreTimes = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return s == "IssuedAt" || s == "ExpiresAt"
}, cmp.Ignore())

// TestTokenResponseFields pins the exact KFTC field sets and headers.
func TestTokenResponseFields(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app
		m, resp := env.post(t, "/oauth/2.0/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {env.code(t, app, "login inquiry", nil)},
			"redirect_uri": {redirectURI}, "client_id": {app.client.ID}, "client_secret": {app.secret},
		})
		if got, want := keys(m), []string{"access_token", "expires_in", "refresh_token", "scope", "token_type", "user_seq_no"}; !slices.Equal(got, want) {
			t.Errorf("fields = %v, want %v", got, want)
		}
		if n, ok := m["expires_in"].(float64); !ok || n < 7775990 || n > 7776000 {
			t.Errorf("expires_in = %#v, want a JSON number near 7776000", m["expires_in"])
		}
		if m["token_type"] != "Bearer" || m["scope"] != "login inquiry" {
			t.Errorf("token_type, scope = %v, %v", m["token_type"], m["scope"])
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "Content-Type": "application/json;charset=UTF-8"} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}

		// A real client sends the refresh grant as query parameters with an empty body.
		q := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(m, "refresh_token")},
			"client_id": {app.client.ID}, "client_secret": {app.secret}, "scope": {"login inquiry"}}
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/oauth/2.0/token?"+q.Encode(), nil)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, _ := env.do(t, req)
		if got, want := keys(r), []string{"access_token", "expires_in", "refresh_token", "scope", "token_type", "user_seq_no"}; !slices.Equal(got, want) {
			t.Errorf("refresh fields = %v, want %v: %v", got, want, r)
		}
		if r["user_seq_no"] != m["user_seq_no"] {
			t.Errorf("refresh user_seq_no = %v, want %v", r["user_seq_no"], m["user_seq_no"])
		}
	})
}

func TestClientCredentials(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		sa := env.newApp(t, "M202600002", true, obx.EnvLive, "oob")
		noOOB := env.newApp(t, "M202600003", false, obx.EnvSandbox, "login")
		grant := func(app *testApp, scope string) map[string]any {
			m, _ := env.post(t, "/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"},
				"client_id": {app.client.ID}, "client_secret": {app.secret}, "scope": {scope}})
			return m
		}

		m := grant(env.app, "oob")
		if got, want := keys(m), []string{"access_token", "client_use_code", "expires_in", "scope", "token_type"}; !slices.Equal(got, want) {
			t.Fatalf("fields = %v, want %v", got, want)
		}
		if m["client_use_code"] != env.app.tsp.ClientUseCode || m["scope"] != "oob" {
			t.Errorf("response = %v", m)
		}
		if _, ok := m["expires_in"].(float64); !ok {
			t.Errorf("expires_in = %#v, want a JSON number", m["expires_in"])
		}
		p, err := env.o.Introspect(context.Background(), str(m, "access_token"))
		if err != nil {
			t.Fatal(err)
		}
		if p.UserSeqNo != "" || !p.HasScope("oob") || p.ClientUseCode != env.app.tsp.ClientUseCode {
			t.Errorf("principal = %+v", p)
		}

		m = grant(sa, "sa")
		if m["scope"] != "sa" || m["client_use_code"] != "M202600002" {
			t.Errorf("sa for a self-authenticating TSP = %v", m)
		}
		if p, err := env.o.Introspect(context.Background(), str(m, "access_token")); err != nil || p.Env != obx.EnvLive || !p.HasScope("sa") {
			t.Errorf("Introspect(sa) = %+v, %v", p, err)
		}

		for _, tc := range []struct {
			name      string
			app       *testApp
			scope     string
			code, sub string
		}{
			{"SANotSelfAuth", env.app, "sa", "O0011", "Scope"},
			{"InquiryScope", env.app, "inquiry", "O0001", "[3000103]"},
			{"TransferWithOOB", env.app, "oob transfer", "O0001", "[3000103]"},
			{"NoScope", env.app, "", "O0001", "[3000103]"},
			{"UnregisteredOOB", noOOB, "oob", "O0001", "[3000115]"},
		} {
			t.Run(tc.name, func(t *testing.T) { wantRsp(t, grant(tc.app, tc.scope), tc.code, tc.sub) })
		}
	})
}

// TestTokenErrors covers the token endpoint's refusals, each in KFTC's envelope
// with HTTP 200.
func TestTokenErrors(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app
		other := env.newApp(t, "M202600009", false, obx.EnvSandbox, "login", "inquiry")
		codeForm := func(code string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"client_id": {app.client.ID}, "client_secret": {app.secret}}
		}
		for _, tc := range []struct {
			name      string
			form      func() url.Values
			code, sub string
		}{
			{"UnknownClient", func() url.Values { return with(codeForm(env.code(t, app, "login", nil)), "client_id", "nope") }, "O0001", "[3000201]"},
			{"WrongSecret", func() url.Values { return with(codeForm(env.code(t, app, "login", nil)), "client_secret", "wrong") }, "O0001", "[3000201]"},
			{"NoSecret", func() url.Values { return with(codeForm(env.code(t, app, "login", nil)), "client_secret", "") }, "O0001", "[3000201]"},
			{"OtherClientsCode", func() url.Values {
				return with(codeForm(env.code(t, app, "login", nil)), "client_id", other.client.ID, "client_secret", other.secret)
			}, "O0001", "[3002110]"},
			{"RedirectMismatch", func() url.Values {
				return with(codeForm(env.code(t, app, "login", nil)), "redirect_uri", "https://app.example/other")
			}, "O0001", "[3000114]"},
			{"UnknownCode", func() url.Values { return codeForm("bogus.code") }, "O0001", "[3002110]"},
			{"NoCode", func() url.Values { return with(codeForm("x"), "code", "") }, "O0001", "[3000103]"},
			{"NoGrantType", func() url.Values { return with(codeForm("x"), "grant_type", "") }, "O0001", "[3000103]"},
			{"UnknownGrantType", func() url.Values { return with(codeForm("x"), "grant_type", "password") }, "O0001", "[3000103]"},
			{"RefreshUnknown", func() url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope.nope"},
					"client_id": {app.client.ID}, "client_secret": {app.secret}}
			}, "O0001", "[3002110]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m, _ := env.post(t, "/oauth/2.0/token", tc.form())
				wantRsp(t, m, tc.code, tc.sub)
			})
		}

		t.Run("DuplicateParameter", func(t *testing.T) {
			body := codeForm(env.code(t, app, "login", nil)).Encode() + "&client_id=" + app.client.ID
			req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/oauth/2.0/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			m, _ := env.do(t, req)
			wantRsp(t, m, "O0001", "[3000103]")
		})

		t.Run("WrongMethod", func(t *testing.T) {
			for _, tc := range []struct{ method, path string }{
				{http.MethodGet, "/oauth/2.0/token"}, {http.MethodPut, "/oauth/2.0/token"}, {http.MethodGet, "/oauth/2.0/revoke"},
			} {
				req, _ := http.NewRequest(tc.method, env.srv.URL+tc.path+"?grant_type=client_credentials", nil)
				m, _ := env.do(t, req)
				wantRsp(t, m, "O0010", "http method")
			}
		})

		t.Run("BasicAuth", func(t *testing.T) {
			form := with(codeForm(env.code(t, app, "login", nil)), "client_id", "", "client_secret", "")
			req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/oauth/2.0/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(app.client.ID), url.QueryEscape(app.secret))
			m, _ := env.do(t, req)
			if str(m, "access_token") == "" || m["rsp_code"] != nil {
				t.Errorf("Basic auth exchange = %v", m)
			}
		})

		t.Run("JSONBody", func(t *testing.T) {
			body := `{"grant_type":"client_credentials","client_id":"` + app.client.ID + `","client_secret":"` + app.secret + `","scope":"oob"}`
			req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/oauth/2.0/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			m, _ := env.do(t, req)
			if str(m, "access_token") == "" {
				t.Errorf("JSON body under a form content type = %v", m)
			}
		})

		t.Run("CodeReuseRevokesTokens", func(t *testing.T) {
			code := env.code(t, app, "login inquiry", nil)
			first := env.exchange(t, app, code, nil)
			if str(first, "access_token") == "" {
				t.Fatalf("first exchange = %v", first)
			}
			wantRsp(t, env.exchange(t, app, code, nil), "O0001", "[3002110]")
			if _, err := env.o.Introspect(context.Background(), str(first, "access_token")); obx.ErrorCode(err) != obx.EUNAUTHORIZED {
				t.Errorf("access token issued from a replayed code still valid: %v", err)
			}
			m, _ := env.post(t, "/oauth/2.0/token", url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {str(first, "refresh_token")}, "client_id": {app.client.ID}, "client_secret": {app.secret}})
			wantRsp(t, m, "O0001", "[3002110]")
		})

		t.Run("ExpiredCode", func(t *testing.T) {
			code := env.code(t, app, "login", nil)
			env.clock.Advance(oauth.DefaultCodeTTL + time.Second)
			wantRsp(t, env.exchange(t, app, code, nil), "O0001", "[3002110]")
		})

		t.Run("RefreshReplayRevokesGrant", func(t *testing.T) {
			first := env.userToken(t, app, "login")
			refresh := func(rt string) map[string]any {
				m, _ := env.post(t, "/oauth/2.0/token", url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {rt}, "client_id": {app.client.ID}, "client_secret": {app.secret}, "scope": {"login"}})
				return m
			}
			second := refresh(str(first, "refresh_token"))
			if str(second, "access_token") == "" {
				t.Fatalf("refresh = %v", second)
			}
			wantRsp(t, refresh(str(first, "refresh_token")), "O0001", "[3002110]")
			// RFC 6819 §5.2.2.3: a replayed refresh token kills the whole grant.
			if _, err := env.o.Introspect(context.Background(), str(second, "access_token")); obx.ErrorCode(err) != obx.EUNAUTHORIZED {
				t.Errorf("grant survived a refresh token replay: %v", err)
			}
		})
	})
}

// TestPKCE checks that a code issued with an S256 challenge needs its verifier,
// and that failed attempts do not wear the requirement away.
func TestPKCE(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		app := env.app
		verifier, challenge := pkcePair()
		code := env.code(t, app, "login", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})

		wantRsp(t, env.exchange(t, app, code, nil), "O0001", "[3002110]")
		wantRsp(t, env.exchange(t, app, code, url.Values{"code_verifier": {strings.Repeat("x", 43)}}), "O0001", "[3002110]")
		wantRsp(t, env.exchange(t, app, code, nil), "O0001", "[3002110]")
		if m := env.exchange(t, app, code, url.Values{"code_verifier": {verifier}}); str(m, "access_token") == "" {
			t.Errorf("exchange with the verifier = %v", m)
		}

		q := env.consent(t, app, "login", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}})
		if q.Get("error") != "invalid_request" || q.Get("state") != testState {
			t.Errorf("plain challenge: %v, want invalid_request", q)
		}
	})
}

// TestIntrospect checks that every way a token can lose its force takes effect
// at once.
func TestIntrospect(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		env := newEnv(t, e, envOptions{})
		ctx := context.Background()
		exec := func(q string, args ...any) {
			if _, err := env.db.SQL().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}

		for i, tc := range []struct {
			name    string
			spoil   func(app *testApp, seq string)
			expired bool
		}{
			{"Garbage", nil, false},
			{"Unlinked", func(app *testApp, seq string) {
				if err := env.db.SetLinkState(ctx, app.tsp.ID, seq, obx.LinkUnlinked, env.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}, false},
			{"Closed", func(app *testApp, seq string) {
				if err := env.db.SetLinkState(ctx, app.tsp.ID, seq, obx.LinkClosed, env.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}, false},
			{"ClientRevoked", func(app *testApp, _ string) {
				exec(`UPDATE clients SET revoked_at = created_at WHERE client_id = $1`, app.client.ID)
			}, false},
			{"TSPSuspended", func(app *testApp, _ string) {
				exec(`UPDATE tsps SET status = $1 WHERE id = $2`, obx.TSPSuspended, app.tsp.ID)
			}, false},
			{"Expired", func(*testApp, string) { env.clock.Advance(oauth.DefaultAccessTTL) }, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				app := env.newApp(t, fmt.Sprintf("T990001%03d", i), false, obx.EnvSandbox, "login", "inquiry")
				m := env.userToken(t, app, "login inquiry")
				token := str(m, "access_token")
				if _, err := env.o.Introspect(ctx, token); err != nil {
					t.Fatalf("Introspect before: %v", err)
				}
				if tc.spoil == nil {
					token = token[:len(token)-2] + "xx"
				} else {
					tc.spoil(app, str(m, "user_seq_no"))
				}
				_, err := env.o.Introspect(ctx, token)
				if tc.name == "TSPSuspended" {
					// A suspended TSP's token is not invalid: its service is
					// refused, which the API reports as A0013.
					if obx.ErrorCode(err) != obx.EFORBIDDEN || !errors.Is(err, obx.ErrTSPSuspended) {
						t.Errorf("Introspect after = %v; want forbidden, ErrTSPSuspended", err)
					}
					return
				}
				if obx.ErrorCode(err) != obx.EUNAUTHORIZED || errors.Is(err, obx.ErrTokenExpired) != tc.expired {
					t.Errorf("Introspect after = %v; want unauthorized, expired %v", err, tc.expired)
				}
			})
		}

		t.Run("RefreshTokenIsNotAccessToken", func(t *testing.T) {
			m := env.userToken(t, env.newApp(t, "T990000777", false, obx.EnvSandbox, "login"), "login")
			if _, err := env.o.Introspect(ctx, str(m, "refresh_token")); obx.ErrorCode(err) != obx.EUNAUTHORIZED {
				t.Errorf("Introspect(refresh token) = %v, want unauthorized", err)
			}
			if _, err := env.o.Introspect(ctx, ""); obx.ErrorCode(err) != obx.EUNAUTHORIZED {
				t.Errorf("Introspect(\"\") = %v, want unauthorized", err)
			}
		})
	})
}

func cloneValues(v url.Values) map[string][]string {
	out := make(map[string][]string, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsHoldNoSecrets runs successful and failing requests with debug logging
// and checks that no secret, token, code, password or account number reaches
// the log.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs syncBuffer
	env := newEnv(t, dbtest.Engines()[0], envOptions{
		logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	app := env.app
	code := env.code(t, app, "login inquiry transfer", nil)
	m := env.exchange(t, app, code, nil)
	wantRsp(t, env.exchange(t, app, code, nil), "O0001", "[3002110]")
	wantRsp(t, env.exchange(t, app, env.code(t, app, "login", nil), url.Values{"client_secret": {app.secret + "x"}}), "O0001", "[3000201]")
	env.consent(t, app, "login", url.Values{"password": {env.cust.Password + "x"}})
	body := "grant_type=refresh_token&refresh_token=" + str(m, "refresh_token") + "&client_secret=" + app.secret + "&client_secret=%zz"
	req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/oauth/2.0/token", strings.NewReader(body))
	env.do(t, req)
	env.post(t, "/oauth/2.0/revoke", url.Values{"client_id": {app.client.ID}, "client_secret": {app.secret},
		"access_token": {str(m, "access_token")}})

	secrets := map[string]string{
		"client secret": app.secret, "code": code, "access token": str(m, "access_token"),
		"refresh token": str(m, "refresh_token"), "password": env.cust.Password,
	}
	p, err := env.o.Introspect(context.Background(), env.userTokenAccess(t))
	if err != nil {
		t.Fatal(err)
	}
	accts, _ := env.db.Accounts(context.Background(), app.tsp.ID, p.UserSeqNo, true)
	for _, a := range accts {
		secrets["account "+a.FintechUseNum] = a.Number
	}
	out := logs.String()
	if !strings.Contains(out, "oauth request refused") {
		t.Fatalf("expected refusals in the log:\n%s", out)
	}
	if strings.Contains(out, ".go:") {
		t.Errorf("the log holds stack traces:\n%s", out)
	}
	for what, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the log contains the %s", what)
		}
	}
}

func (env *testEnv) userTokenAccess(t *testing.T) string {
	t.Helper()
	return str(env.userToken(t, env.app, "login inquiry"), "access_token")
}
