package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/sqlstore"
	"github.com/obxhub/obx/web"
)

// TestBankRegistry: a bank registered in the console and a maintenance
// window set there reach a running hub at its next registry sync.
func TestBankRegistry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, err := openHub(ctx, hubConfig{DSN: "sqlite://" + filepath.Join(dir, "hub.db"), Banks: []bankSpec{{Code: "097", Name: "오픈은행"}},
		SimDir: dir, Seed: 1, BankTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	admin := obx.Actor{Staff: &obx.StaffUser{Email: "a@center", Role: obx.RoleAdmin}}
	if err := h.admission.RegisterBank(ctx, admin, &obx.BankConfig{Code: "045", Name: "새마을금고"}); err != nil {
		t.Fatal(err)
	}
	// A window around now, in KST.
	now := time.Now().In(time.FixedZone("KST", 9*3600))
	window := now.Add(-time.Hour).Format("15:04") + "-" + now.Add(time.Hour).Format("15:04")
	if err := h.admission.SetBankMaintenance(ctx, admin, "097", window); err != nil {
		t.Fatal(err)
	}
	if err := h.syncBanks(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := h.banks.Bank("045")
	if err != nil {
		t.Fatalf("registered bank not connected: %v", err)
	}
	if st, err := b.Status(ctx); err != nil || !st.Up {
		t.Errorf("registered bank status %+v %v", st, err)
	}
	b, _ = h.banks.Bank("097")
	if _, err := b.Account(ctx, "1"); !strings.Contains(obx.ErrorMessage(err), "maintenance") {
		t.Errorf("call in a maintenance window: %v", err)
	}
	if st, _ := b.Status(ctx); !st.Maintenance {
		t.Errorf("status in maintenance: %+v", st)
	}
}

// TestAdminCreateUser makes the first console user from the command line.
func TestAdminCreateUser(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "hub.db")
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "create-user", "--db", dsn, "--email", "Ops@Center.example", "--name", "Ops", "--role", "reviewer"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(out.String()[strings.LastIndex(out.String(), ":")+1:])
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.StaffByEmail(ctx, "ops@center.example")
	if err != nil || u.Role != obx.RoleReviewer || !web.CheckPassword(u.PasswordHash, password) {
		t.Fatalf("created user %+v %v (password %q)", u, err, password)
	}
	if err := run(ctx, []string{"admin", "create-user", "--db", dsn, "--email", "ops@center.example", "--name", "Ops"}, io.Discard, io.Discard); obx.ErrorCode(err) != obx.ECONFLICT {
		t.Errorf("duplicate: %v", err)
	}
	if err := run(ctx, []string{"admin", "create-user", "--db", dsn, "--email", "x@center.example", "--name", "X", "--role", "boss"}, io.Discard, io.Discard); err == nil {
		t.Error("unknown role accepted")
	}
	if es, _ := db.Audit(ctx, obx.AuditQuery{Action: "staff.create"}); len(es) != 1 {
		t.Errorf("staff.create audited %d times", len(es))
	}
}

// TestDemoTSPSuspension: a demo TSP is live with a complete file, so an
// operator can suspend it with the console's JSON API; its next KFTC call
// answers A0013 and its token requests are refused, until it is reinstated.
func TestDemoTSPSuspension(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		dir := t.TempDir()
		var banks []bankSpec
		for _, b := range banksim.DemoBanks {
			banks = append(banks, bankSpec{Code: b.Code, Name: b.Name})
		}
		h, err := openHub(ctx, hubConfig{DSN: e.NewDSN(t), Sandbox: true, Banks: banks, SimDir: dir, Seed: 1,
			BankTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		srv := httptest.NewServer(h.handler)
		defer srv.Close()
		st, err := seedDemo(ctx, h, dir, srv.URL, 1)
		if err != nil {
			t.Fatal(err)
		}
		dt := st.TSPs[0]
		if dt.State != obx.AdmLive {
			t.Fatalf("demo TSP state %q, want live", dt.State)
		}

		// The console sees a live TSP with a complete file, admitted by the
		// demo seed with every step in its history.
		api := func(method, path, token, body string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+"/console/api/v1"+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
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
		code, m := api("POST", "/sessions", "", fmt.Sprintf(`{"email":%q,"password":%q}`, st.Console.Email, st.Console.Password))
		token, _ := m["token"].(string)
		if code != http.StatusOK || token == "" {
			t.Fatalf("sign-in: %d %v", code, m)
		}
		_, m = api("GET", "/queues/live", token, "")
		id := ""
		for _, it := range m["list"].([]any) {
			if it := it.(map[string]any); it["client_use_code"] == dt.ClientUseCode {
				id = it["tsp_id"].(string)
			}
		}
		if id == "" {
			t.Fatalf("demo TSP %s not in the live queue: %v", dt.ClientUseCode, m)
		}
		code, m = api("GET", "/tsps/"+id, token, "")
		c, _ := m["contract"].(map[string]any)
		if code != http.StatusOK || m["status"] != obx.TSPActive || c == nil || c["signed"] != true ||
			c["main_bank"] != dt.MainBank || len(m["functional_checks"].([]any)) != len(obx.AdmissionAPIs) {
			t.Fatalf("demo TSP file: %d %v", code, m)
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		mc, err := h.db.Contract(ctx, n)
		if err != nil || mc.MainBank != dt.MainBank || int64(c["daily_withdraw_limit"].(float64)) != mc.DailyWithdrawLimit {
			t.Errorf("money contract %+v %v does not match the file's %v", mc, err, c)
		}
		for _, action := range []string{"tsp.seed", "application.decide", "functional.confirm", "contract.set", "tsp.go_live"} {
			if es, _ := h.db.Audit(ctx, obx.AuditQuery{Subject: "tsp:" + id, Action: action}); len(es) != 1 || es[0].Actor != "system:demo seed" {
				t.Errorf("audit of %s: %d entries %v", action, len(es), es)
			}
		}

		tsp := hubtest.NewTSP(srv.URL, dt.ClientID, dt.ClientSecret, dt.ClientUseCode, dt.RedirectURIs[0])
		oob := tsp.InstitutionToken(t, "oob")
		status := func() string { return hubtest.Code(tsp.Get(t, oob, "/v2.0/bank/status", nil)) }
		gotToken := func() bool {
			resp, err := srv.Client().PostForm(srv.URL+"/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"},
				"client_id": {dt.ClientID}, "client_secret": {dt.ClientSecret}, "scope": {"oob"}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode == http.StatusOK && body["access_token"] != nil
		}
		if got := status(); got != "A0000" {
			t.Fatalf("live demo TSP: rsp_code %s", got)
		}

		if code, m := api("POST", "/tsps/"+id+"/suspend", token, `{"reason":"unpaid_fees","note":"demo"}`); code != http.StatusOK || m["file"].(map[string]any)["state"] != obx.AdmSuspended {
			t.Fatalf("suspend: %d %v", code, m)
		}
		if got := status(); got != "A0013" {
			t.Errorf("suspended demo TSP: rsp_code %s, want A0013", got)
		}
		if gotToken() {
			t.Errorf("suspended demo TSP got a token")
		}
		if code, m := api("POST", "/tsps/"+id+"/reinstate", token, `{"note":"paid"}`); code != http.StatusOK || m["file"].(map[string]any)["state"] != obx.AdmLive {
			t.Fatalf("reinstate: %d %v", code, m)
		}
		if got := status(); got != "A0000" {
			t.Errorf("reinstated demo TSP: rsp_code %s", got)
		}
		if !gotToken() {
			t.Errorf("reinstated demo TSP got no token")
		}

		// A restart keeps the operator's decision and the credentials.
		if code, m := api("POST", "/tsps/"+id+"/suspend", token, `{"reason":"terms_breach"}`); code != http.StatusOK {
			t.Fatalf("suspend again: %d %v", code, m)
		}
		again, err := seedDemo(ctx, h, dir, srv.URL, 1)
		if err != nil || again.TSPs[0].State != obx.AdmSuspended || again.TSPs[0].ClientID != dt.ClientID {
			t.Errorf("re-seed: %v %+v", err, again.TSPs[0])
		}
	})
}
