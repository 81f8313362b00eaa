package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/obxhub/obx/internal/dbtest"
)

// FuzzTokenRequest feeds the token endpoint arbitrary methods, content types,
// query strings and bodies. Whatever arrives, the answer is HTTP 200 with a
// JSON object (KFTC answers every failure with 200 and an envelope), never a
// panic or a 5xx.
func FuzzTokenRequest(f *testing.F) {
	env := newEnv(f, dbtest.Engines()[0], envOptions{})
	app := env.app
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.client.ID},
		"client_secret": {app.secret}, "scope": {"oob"}}
	f.Add("POST", "application/x-www-form-urlencoded", "", form.Encode())
	f.Add("POST", "application/x-www-form-urlencoded", form.Encode(), "")
	f.Add("POST", "application/x-www-form-urlencoded", "", `{"grant_type":"client_credentials","client_id":"`+app.client.ID+`","client_secret":"`+app.secret+`","scope":"oob"}`)
	f.Add("POST", "application/json", "", `{"grant_type":1e400,"scope":["oob"],"client_id":null}`)
	f.Add("POST", "", "grant_type=refresh_token&refresh_token=a.b", "")
	f.Add("POST", "multipart/form-data; boundary=x", "", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nauthorization_code\r\n--x--")
	f.Add("POST", "application/x-www-form-urlencoded", "%zz", "grant_type=authorization_code&code=%ZZ&code=1")
	f.Add("GET", "", "grant_type=client_credentials", "")
	f.Add("POST", "text/plain", "", "\x00\xff{")
	f.Add("POST", "application/x-www-form-urlencoded", "", strings.Repeat("a=b&", 20000))

	handler := env.srv.Config.Handler
	f.Fuzz(func(t *testing.T, method, contentType, query, body string) {
		if method != "POST" && method != "GET" && method != "PUT" {
			method = "POST"
		}
		req := httptest.NewRequest(method, "/oauth/2.0/token", strings.NewReader(body))
		req.URL.RawQuery = query
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for %s %q %q %q: %s", rec.Code, method, contentType, query, body, rec.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON object: %s", rec.Body)
		}
		if _, ok := m["rsp_code"]; ok == (m["access_token"] != nil) {
			t.Fatalf("want either an envelope or a token: %s", rec.Body)
		}
	})
}
