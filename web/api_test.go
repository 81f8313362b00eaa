package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/obxhub/obx/banksim"
)

// apiClient calls the console's admin API with a bearer token.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) call(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+"/console/api/v1"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	json.NewDecoder(resp.Body).Decode(&v)
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{"list": v}
	}
	return resp.StatusCode, m
}

func signInAPI(t *testing.T, h *testHub, email string) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: h.srv.URL}
	st, m := c.call("POST", "/sessions", `{"email":"`+email+`","password":"`+staffPassword+`"}`)
	if st != http.StatusOK || m["token"] == "" {
		t.Fatalf("API sign-in: %d %v", st, m)
	}
	c.token = m["token"].(string)
	return c
}

// TestAdminAPI takes an application through every step with the JSON API,
// and checks that bad requests get clear errors and change nothing.
func TestAdminAPI(t *testing.T) {
	h := newHub(t)
	tsp := h.browser(t)
	tsp.signUp("api@fin.example")
	id := h.fileID(t, tsp.find(`id="client-use-code">([^<]+)<`))
	tsp.post("/portal/application", application("/v2.0/bank/status"))
	tsp.post("/portal/application/submit", nil)

	anon := &apiClient{t: t, base: h.srv.URL}
	if st, m := anon.call("GET", "/tsps/"+id, ""); st != http.StatusUnauthorized || m["error"] != "unauthorized" {
		t.Errorf("no token: %d %v", st, m)
	}
	if st, _ := anon.call("POST", "/sessions", `{"email":"rev@center.example","password":"nope"}`); st != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", st)
	}
	rev := signInAPI(t, h, "rev@center.example")
	if st, m := rev.call("GET", "/queues/submitted", ""); st != http.StatusOK || len(m["list"].([]any)) != 1 {
		t.Errorf("queue: %d %v", st, m)
	}
	for _, bad := range []struct{ path, body string }{
		{"/tsps/" + id + "/review", `{"reasons": 5}`},       // wrong type
		{"/tsps/" + id + "/review", `{"reason":"x"} junk`},  // trailing data
		{"/tsps/" + id + "/review", `{"unknown_field": 1}`}, // typo
		{"/tsps/" + id + "/review", `not json`},
		{"/tsps/" + id + "/contract", `{"guarantee":"bank"}`},
		{"/queues/nope", ``},
	} {
		method := "POST"
		if bad.body == "" {
			method = "GET"
		}
		if st, m := rev.call(method, bad.path, bad.body); st != http.StatusBadRequest || m["message"] == "" {
			t.Errorf("%s %s: %d %v", bad.path, bad.body, st, m)
		}
	}
	if st, _ := rev.call("POST", "/tsps/"+id+"/explode", ""); st != http.StatusNotFound {
		t.Errorf("unknown action: %d", st)
	}
	if st, _ := rev.call("POST", "/tsps/12345/review", ""); st != http.StatusNotFound {
		t.Errorf("unknown TSP: %d", st)
	}
	if st, m := rev.call("GET", "/tsps/"+id, ""); st != http.StatusOK || m["state"] != "submitted" {
		t.Fatalf("bad requests changed the file: %v", m)
	}

	step := func(action, body, want string) map[string]any {
		t.Helper()
		st, m := rev.call("POST", "/tsps/"+id+"/"+action, body)
		file, _ := m["file"].(map[string]any)
		if st != http.StatusOK || file["state"] != want {
			t.Fatalf("%s: %d %v", action, st, m)
		}
		return file
	}
	step("review", "", "review")
	if st, m := rev.call("POST", "/tsps/"+id+"/reject", `{}`); st != http.StatusBadRequest {
		t.Errorf("reject without reasons: %d %v", st, m)
	}
	step("approve", `{"reasons":"ok"}`, "approved")
	tsp.post("/portal/functional/request", nil)
	if st, m := rev.call("POST", "/tsps/"+id+"/functional_confirm", ""); st != http.StatusConflict || !strings.Contains(m["message"].(string), "/v2.0/bank/status") {
		t.Errorf("confirm without a sandbox call: %d %v", st, m)
	}
	h.db.RecordSandboxSuccess(t.Context(), mustID(t, id), "/v2.0/bank/status", h.db.Now())
	step("functional_confirm", "", "security_check")
	file := step("deficiency", `{"part":"environment","title":"No backup site"}`, "security_check")
	item := file["security_items"].([]any)[0].(map[string]any)["id"].(string)
	if st, _ := rev.call("POST", "/tsps/"+id+"/security_pass", ""); st != http.StatusConflict {
		t.Errorf("pass with an open item: %d", st)
	}
	if st, m := rev.call("POST", "/tsps/"+id+"/security/"+item+"/close", ""); st != http.StatusOK {
		t.Fatalf("close: %d %v", st, m)
	}
	step("security_pass", "", "contract")
	acct := banksim.DemoTSPAccounts("097")[0].Number
	file = step("contract", `{"main_bank":"097","daily_withdraw_limit":3000000,"accounts":["`+acct+`"]}`, "contract")
	if c := file["contract"].(map[string]any); c["insured_amount"].(float64) != 6_000_000 || c["guarantee_percent"].(float64) != 200 {
		t.Errorf("contract %v", c)
	}
	if st, _ := rev.call("POST", "/tsps/"+id+"/contract", `{"main_bank":"097","daily_withdraw_limit":-1,"accounts":["`+acct+`"]}`); st != http.StatusBadRequest {
		t.Errorf("negative limit: %d", st)
	}
	step("golive", "", "live")
	step("suspend", `{"reason":"terms_breach","note":"api"}`, "suspended")
	step("terminate", `{"reason":"terms_breach"}`, "terminated")
	if st, _ := rev.call("POST", "/tsps/"+id+"/reinstate", `{}`); st != http.StatusConflict {
		t.Errorf("reinstate a terminated TSP: %d", st)
	}

	// Only auditors and admins read the trail; auditors change nothing.
	if st, _ := rev.call("GET", "/audit", ""); st != http.StatusForbidden {
		t.Errorf("reviewer reads the audit trail: %d", st)
	}
	aud := signInAPI(t, h, "aud@center.example")
	if st, m := aud.call("GET", "/audit?"+url.Values{"subject": {"tsp:" + id}, "action": {"tsp."}}.Encode(), ""); st != http.StatusOK ||
		len(m["list"].([]any)) != 4 { // sign-up, go-live, suspend, terminate
		t.Errorf("audit: %d %v", st, m)
	}
	if st, _ := aud.call("POST", "/tsps/"+id+"/note", `{"text":"hi"}`); st != http.StatusForbidden {
		t.Errorf("auditor writes a note: %d", st)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}
