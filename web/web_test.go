package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/hubtest"
)

// application is a complete application form for the TSP's portal.
func application(apis ...string) url.Values {
	return url.Values{"company_name": {"Fin Co"}, "business_num": {"1234567890"}, "category": {obx.EligibleEFinance},
		"services": {"payment"}, "apis": apis, "service_plan": {"Pay by bank account."}, "credit_rating": {"BBB"},
		"paid_in_capital": {"1,500,000,000"}, "annual_revenue": {"3000000000"}, "business_months": {"30"},
		"service_months": {"30"}, "members": {"50000"}, "annual_transactions": {"200000"}, "licences": {obx.LicenceEFinanceOther},
		"aml": {"1"}, "complaint_handling": {"1"}}
}

// realName asks bank for the holder of one of its demo business accounts,
// which touches the bank itself, and returns the answer's rsp_code.
func realName(t *testing.T, c *hubtest.TSP, token, bank string) string {
	t.Helper()
	return hubtest.Code(c.Post(t, token, "/v2.0/inquiry/real_name", map[string]any{"bank_tran_id": c.BankTranID(),
		"bank_code_std": bank, "account_num": banksim.DemoTSPAccounts(bank)[0].Number, "account_holder_info_type": "N",
		"account_holder_info": "", "tran_dtime": hubtest.TranDtime()}))
}

// fileID returns the console's id of the TSP with client_use_code.
func (h *testHub) fileID(t *testing.T, code string) string {
	t.Helper()
	tsp, err := h.db.TSPByUseCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(tsp.ID)
}

// TestAdmissionOverHTTP drives a TSP from sign-up to live through the portal
// and the console, then suspends it: its live credentials stop working for
// the API and the token endpoint at once.
func TestAdmissionOverHTTP(t *testing.T) {
	h := newHub(t)
	tsp := h.browser(t)
	tsp.signUp("kim@fin.example")
	useCode := tsp.find(`id="client-use-code">([^<]+)<`)

	// An app gets sandbox credentials at once; the secret is shown once.
	if st := tsp.post("/portal/apps", url.Values{"name": {"Pay app"}, "redirect_uris": {"https://fin.example/cb\nhttp://localhost:3000/cb"}}); st != http.StatusOK {
		t.Fatalf("create app: %d %s", st, tsp.body)
	}
	sandbox := hubtest.NewTSP(h.srv.URL, tsp.find(`id="new-client-id">([^<]+)<`), tsp.find(`id="new-secret">([^<]+)<`), useCode, "https://fin.example/cb")
	if tsp.get("/portal/"); tsp.has(sandbox.ClientSecret) {
		t.Error("the secret is shown again")
	}
	tok := sandbox.InstitutionToken(t, "oob")
	if m := sandbox.Get(t, tok, "/v2.0/bank/status", nil); hubtest.Code(m) != "A0000" {
		t.Fatalf("sandbox call: %v", m)
	}
	if code := realName(t, sandbox, tok, "097"); code != "A0000" {
		t.Errorf("sandbox credentials at a sandbox bank: %s", code)
	}
	if code := realName(t, sandbox, tok, "088"); code == "A0000" {
		t.Error("sandbox credentials reached a live bank")
	}
	// The TSP sees its calls on the portal, to debug.
	if err := h.calls.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tsp.get("/portal/"); !tsp.has(`id="calls"`) || !tsp.has("POST /v2.0/inquiry/real_name") || !tsp.has("A0000") {
		t.Error("the portal does not show the TSP's recent calls")
	}

	// The application: bad input is refused with a message and saves nothing.
	bad := application("/v2.0/bank/status")
	bad.Set("paid_in_capital", "lots")
	if st := tsp.post("/portal/application", bad); st != http.StatusBadRequest || !tsp.has("paid_in_capital") {
		t.Errorf("bad number: %d", st)
	}
	bad = application("/v2.0/nope")
	if st := tsp.post("/portal/application", bad); st != http.StatusBadRequest || !tsp.has("unknown API") {
		t.Errorf("unknown API: %d", st)
	}
	if st := tsp.post("/portal/application/submit", nil); st != http.StatusBadRequest {
		t.Errorf("submitting an empty application: %d", st)
	}
	if st := tsp.post("/portal/application", application("/v2.0/bank/status")); st != http.StatusOK || !tsp.has("Draft saved") {
		t.Fatalf("save: %d %s", st, tsp.body)
	}
	if st := tsp.post("/portal/application/submit", nil); st != http.StatusOK || !tsp.has(`id="app-state">submitted`) {
		t.Fatalf("submit: %d", st)
	}

	// The reviewer takes it through every step.
	rev := h.browser(t)
	rev.staff("rev@center.example")
	id := h.fileID(t, useCode)
	rev.get("/console/?state=submitted")
	if !rev.has("/console/tsps/" + id) {
		t.Fatal("the application is not in the submitted queue")
	}
	step := func(action string, form url.Values, want string) {
		t.Helper()
		if st := rev.post("/console/tsps/"+id+"/"+action, form); st != http.StatusOK || !rev.has(`id="file-state">`+want) {
			t.Fatalf("%s: %d, want state %s\n%s", action, st, want, rev.find(`(?s)<main[^>]*>(.{0,600})`))
		}
	}
	if st := rev.post("/console/tsps/"+id+"/golive", nil); st != http.StatusConflict {
		t.Errorf("go live from submitted: %d", st)
	}
	step("review", nil, "review")
	if !rev.has(`id="selfcert"`) || !rev.has(`id="guarantee-percent">200%`) {
		t.Error("no score breakdown on the file")
	}
	step("approve", url.Values{"reasons": {"Complete."}}, "approved")
	if st := tsp.post("/portal/functional/request", nil); st != http.StatusOK {
		t.Fatalf("request functional check: %d", st)
	}
	rev.get("/console/tsps/" + id)
	step("functional_confirm", nil, "security_check") // ticked by the sandbox call above
	step("deficiency", url.Values{"part": {"vulnerability"}, "title": {"Session token in logs"}}, "security_check")
	if st := rev.post("/console/tsps/"+id+"/security_pass", nil); st != http.StatusConflict || !rev.has("still open") {
		t.Errorf("pass with an open deficiency: %d", st)
	}
	tsp.get("/portal/")
	item := tsp.find(`action="/portal/security/(\d+)/remedy"`)
	if st := tsp.post("/portal/security/"+item+"/remedy", url.Values{"remedy": {"Tokens are redacted."}}); st != http.StatusOK {
		t.Fatalf("remedy: %d", st)
	}
	if st := rev.post("/console/tsps/"+id+"/security/"+item+"/close", nil); st != http.StatusOK {
		t.Fatalf("close deficiency: %d", st)
	}
	step("security_pass", nil, "contract")
	acct := banksim.DemoTSPAccounts("097")[0]
	// No 1-won verification (+30) and one vulnerability (+10), minus 15+0+5+2+2+2+2+10 = 38: score 2 → 200%.
	step("contract", url.Values{"main_bank": {"097"}, "daily_withdraw_limit": {"5000000"}, "accounts": {acct.Number},
		"guarantee": {"center"}}, "contract")
	if got := rev.find(`id="insured">([^<]+)<`); got != "10,000,000 KRW" {
		t.Errorf("insured amount %q, want 10,000,000 KRW", got)
	}
	step("golive", nil, "live")

	// Live credentials: issued at go-live, their secret set by the TSP.
	tsp.get("/portal/")
	liveID := tsp.find(`<code>([0-9a-f-]{36})</code></td><td><span class="badge">live`)
	if st := tsp.post("/portal/apps/"+liveID+"/rotate", nil); st != http.StatusOK {
		t.Fatalf("issue live secret: %d", st)
	}
	live := hubtest.NewTSP(h.srv.URL, liveID, tsp.find(`id="new-secret">([^<]+)<`), useCode, "https://fin.example/cb")
	liveTok := live.InstitutionToken(t, "oob")
	if m := live.Get(t, liveTok, "/v2.0/bank/status", nil); hubtest.Code(m) != "A0000" {
		t.Fatalf("live call: %v", m)
	}
	if code := realName(t, live, liveTok, "088"); code != "A0000" {
		t.Errorf("live credentials at a live bank: %s", code)
	}
	if code := realName(t, live, liveTok, "097"); code == "A0000" {
		t.Error("live credentials reached a sandbox bank")
	}
	if code := realName(t, sandbox, sandbox.InstitutionToken(t, "oob"), "088"); code == "A0000" {
		t.Error("after go-live, sandbox credentials reached a live bank")
	}

	// Suspension takes effect on the next call and the next token request.
	step("suspend", url.Values{"reason": {"unpaid_fees"}, "note": {"3 unpaid invoices"}}, "suspended")
	if m := live.Get(t, liveTok, "/v2.0/bank/status", nil); hubtest.Code(m) != "A0013" {
		t.Errorf("a suspended TSP's call: %v", m)
	}
	if m := live.PostForm(t, "/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {live.ClientID},
		"client_secret": {live.ClientSecret}, "scope": {"oob"}}); m["access_token"] != nil {
		t.Errorf("a suspended TSP got a token: %v", m)
	}
	step("reinstate", url.Values{"note": {"paid"}}, "live")
	if m := live.Get(t, liveTok, "/v2.0/bank/status", nil); hubtest.Code(m) != "A0000" {
		t.Errorf("a reinstated TSP's call: %v", m)
	}

	// The auditor sees the whole story, chained, and may change nothing.
	aud := h.browser(t)
	aud.staff("aud@center.example")
	if st := aud.post("/console/tsps/"+id+"/suspend", url.Values{"reason": {"unpaid_fees"}}); st != http.StatusForbidden {
		t.Errorf("auditor suspends: %d", st)
	}
	if st := aud.get("/console/audit?subject=tsp:" + id); st != http.StatusOK || !aud.has(`id="audit-verified"`) ||
		!aud.has("tsp.suspend") || !aud.has("tsp.go_live") || !aud.has("application.submit") {
		t.Errorf("audit page: %d", st)
	}
	if st := rev.get("/console/audit"); st != http.StatusForbidden {
		t.Errorf("reviewer reads the audit trail: %d", st)
	}
}

// TestFormsRefuseBadRequests checks the protections every form has: CSRF
// tokens, cross-origin refusal, sign-in throttling, upload checks, and
// another TSP's ids.
func TestFormsRefuseBadRequests(t *testing.T) {
	h := newHub(t)
	a := h.browser(t)
	a.signUp("a@fin.example")
	if st := a.post("/portal/apps", url.Values{"name": {"A app"}, "redirect_uris": {"https://a.example/cb"}}); st != http.StatusOK {
		t.Fatal(st)
	}
	clientA := a.find(`id="new-client-id">([^<]+)<`)

	t.Run("forged CSRF token", func(t *testing.T) {
		if st := a.post("/portal/apps/"+clientA+"/revoke", url.Values{"csrf_token": {"forged"}}); st != http.StatusForbidden {
			t.Errorf("status %d", st)
		}
		if c, _ := h.db.Client(context.Background(), clientA); !c.RevokedAt.IsZero() {
			t.Error("a forged form revoked the client")
		}
	})
	t.Run("cross-origin post", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.srv.URL+"/portal/apps/"+clientA+"/revoke", strings.NewReader("csrf_token="+url.QueryEscape(a.csrf)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if st := a.read(a.c.Do(req)); st != http.StatusForbidden {
			t.Errorf("status %d", st)
		}
	})
	t.Run("another TSP's ids", func(t *testing.T) {
		b := h.browser(t)
		b.signUp("b@fin.example")
		for _, action := range []string{"revoke", "rotate", "compromised"} {
			if st := b.post("/portal/apps/"+clientA+"/"+action, nil); st != http.StatusNotFound {
				t.Errorf("%s another TSP's client: %d", action, st)
			}
		}
		if c, _ := h.db.Client(context.Background(), clientA); !c.RevokedAt.IsZero() {
			t.Error("another TSP revoked the client")
		}
		if st := b.post("/portal/security/1/remedy", url.Values{"remedy": {"x"}}); st != http.StatusNotFound {
			t.Errorf("remedy of an unknown item: %d", st)
		}
		// A portal session is no console session.
		if st := b.get("/console/"); st != http.StatusOK || !b.has(`action="/console/signin"`) {
			t.Errorf("portal user on the console: %d", st)
		}
	})
	t.Run("uploads", func(t *testing.T) {
		upload := func(name string, data []byte) int {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("csrf_token", a.csrf)
			fw, _ := mw.CreateFormFile("document", name)
			fw.Write(data)
			mw.Close()
			req, _ := http.NewRequest("POST", h.srv.URL+"/portal/documents", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			return a.read(a.c.Do(req))
		}
		if st := upload("big.pdf", append([]byte("%PDF-1.7\n"), make([]byte, 6<<20)...)); st != http.StatusBadRequest || !a.has("larger than 5 MB") {
			t.Errorf("oversized upload: %d", st)
		}
		if st := upload("x.pdf", []byte("<html><script>alert(1)</script>")); st != http.StatusBadRequest || !a.has("Only PDF") {
			t.Errorf("HTML as PDF: %d", st)
		}
		if st := upload("../../plan.pdf", []byte("%PDF-1.7\nhello")); st != http.StatusOK || !a.has("plan.pdf") {
			t.Errorf("PDF upload: %d", st)
		}
	})
	t.Run("bad sign-up", func(t *testing.T) {
		c := h.browser(t)
		for _, form := range []url.Values{
			{"company": {"X"}, "name": {"Y"}, "email": {"not-an-email"}, "password": {"long enough pw"}},
			{"company": {""}, "name": {"Y"}, "email": {"y@x.example"}, "password": {"long enough pw"}},
			{"company": {"X"}, "name": {"Y"}, "email": {"y@x.example"}, "password": {"short"}},
			{"company": {"X"}, "name": {"Y"}, "email": {"a@fin.example"}, "password": {"long enough pw"}}, // taken
		} {
			if st := c.post("/portal/signup", form); st != http.StatusBadRequest && st != http.StatusConflict {
				t.Errorf("sign-up %v: %d", form, st)
			}
		}
	})
	t.Run("sign-in throttling", func(t *testing.T) {
		c := h.browser(t)
		for i := 0; i < 5; i++ {
			if st := c.post("/console/signin", url.Values{"email": {"admin@center.example"}, "password": {"wrong password"}}); st != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, st)
			}
		}
		if st := c.post("/console/signin", url.Values{"email": {"admin@center.example"}, "password": {staffPassword}}); st != http.StatusTooManyRequests {
			t.Errorf("sign-in after 5 failures: %d", st)
		}
	})
	t.Run("password reset", func(t *testing.T) {
		c := h.browser(t)
		c.post("/portal/reset", url.Values{"email": {"nobody@fin.example"}})
		if h.mail.last() != "" {
			t.Error("mail sent for an unknown email")
		}
		c.post("/portal/reset", url.Values{"email": {"a@fin.example"}})
		mail := h.mail.last()
		i := strings.Index(mail, "/portal/reset?token=")
		if i < 0 || !strings.HasPrefix(mail, "a@fin.example\n") {
			t.Fatalf("no reset link mailed: %q", mail)
		}
		token := strings.Fields(mail[i+len("/portal/reset?token="):])[0]
		if st := c.post("/portal/reset/confirm", url.Values{"token": {token}, "password": {"a brand new pw"}}); st != http.StatusOK {
			t.Fatalf("reset: %d %s", st, c.body)
		}
		if st := c.post("/portal/reset/confirm", url.Values{"token": {token}, "password": {"another new pw"}}); st != http.StatusBadRequest {
			t.Errorf("reset link used twice: %d", st)
		}
		if st := c.post("/portal/signin", url.Values{"email": {"a@fin.example"}, "password": {"a brand new pw"}}); st != http.StatusOK || !c.has("client-use-code") {
			t.Errorf("sign-in with the new password: %d", st)
		}
	})
}

// TestBanksPage registers a bank and sets a maintenance window from the
// console; only admins may.
func TestBanksPage(t *testing.T) {
	h := newHub(t)
	admin := h.browser(t)
	admin.staff("admin@center.example")
	if st := admin.get("/console/banks"); st != http.StatusOK || !admin.has(`<code>097</code>`) || !admin.has(`id="add-bank"`) {
		t.Fatalf("banks page: %d\n%s", st, admin.body)
	}
	for _, bad := range []url.Values{
		{"code": {"12"}, "name": {"x"}, "connection": {"sim"}},
		{"code": {"123"}, "name": {"x"}, "connection": {"ftp://bank"}},
		{"code": {"097"}, "name": {"dup"}, "connection": {"sim"}},
	} {
		if st := admin.post("/console/banks", bad); st != http.StatusBadRequest && st != http.StatusConflict {
			t.Errorf("register %v: %d", bad, st)
		}
	}
	if st := admin.post("/console/banks", url.Values{"code": {"045"}, "name": {"새마을금고"}, "connection": {"https://bank045.example/obx"},
		"env": {"live"}}); st != http.StatusOK || !admin.has("connecting") || !admin.has("https://bank045.example/obx") {
		t.Errorf("register: %d", st)
	}
	if st := admin.post("/console/banks/097/maintenance", url.Values{"windows": {"23:30-00:30"}}); st != http.StatusOK || !admin.has("23:30-00:30") {
		t.Errorf("maintenance: %d", st)
	}
	if st := admin.post("/console/banks/097/maintenance", url.Values{"windows": {"25:00-26:00"}}); st != http.StatusBadRequest {
		t.Errorf("bad window: %d", st)
	}
	if st := admin.post("/console/banks/999/maintenance", url.Values{"windows": {"01:00-02:00"}}); st != http.StatusNotFound {
		t.Errorf("unknown bank: %d", st)
	}
	rev := h.browser(t)
	rev.staff("rev@center.example")
	if st := rev.get("/console/banks"); st != http.StatusOK || rev.has(`id="add-bank"`) {
		t.Errorf("reviewer's banks page: %d", st)
	}
	if st := rev.post("/console/banks", url.Values{"code": {"046"}, "name": {"x"}, "connection": {"sim"}}); st != http.StatusForbidden {
		t.Errorf("reviewer registers a bank: %d", st)
	}
	if es, _ := h.db.Audit(context.Background(), obx.AuditQuery{Action: "bank."}); len(es) != 2 {
		t.Errorf("bank actions audited: %d", len(es))
	}
}
