package http_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx"
	obxhttp "github.com/obxhub/obx/http"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/sqlstore"
)

const adminToken = "0123456789abcdef0123456789abcdef-admin"

var adminClient = &http.Client{Timeout: 10 * time.Second}

// adminCall sends method path to the admin API with the Authorization header
// auth ("" for none) and returns the status and decoded JSON body.
func adminCall(t *testing.T, base, method, path, auth string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q, want no-store", method, path, cc)
		}
	}
	var m map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, m
}

func TestAdminSettlements(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["088"])
		for _, amt := range []string{"10000", "2500"} {
			r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, contractAccount(0), amt))
			if hubtest.Code(r) != "A0000" {
				t.Fatalf("withdraw: %v", r)
			}
		}
		// The admin server shares the hub's database; its clock is two days
		// ahead, so that today's cycle is past its cut-off.
		later := time.Now().Add(48 * time.Hour)
		s := &obxhttp.Server{
			Service:     &obx.Service{Accounts: h.db, Banks: h.dir, Now: time.Now},
			AdminToken:  adminToken,
			Settlements: &sqlstore.Cycles{DB: h.db},
			Now:         func() time.Time { return later },
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		today := obx.KSTDay(time.Now())
		path := "/admin/v1/settlements/" + today
		bearer := "Bearer " + adminToken

		for _, tc := range []struct {
			name, method, path, auth string
			status                   int
		}{
			{"no token", "POST", path, "", 401},
			{"wrong token", "POST", path, "Bearer " + strings.Repeat("x", len(adminToken)), 401},
			{"token prefix", "POST", path, "Bearer " + adminToken[:20], 401},
			{"token as basic auth", "GET", path, "Basic " + adminToken, 401},
			{"open cycle", "GET", path, bearer, 404},
			{"bad date", "POST", "/admin/v1/settlements/2026-11-24", bearer, 400},
			{"impossible date", "GET", "/admin/v1/settlements/20261332", bearer, 400},
			{"cycle before its cut-off", "POST", "/admin/v1/settlements/" + obx.KSTDay(later), bearer, 409},
		} {
			status, body := adminCall(t, srv.URL, tc.method, tc.path, tc.auth)
			if status != tc.status {
				t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, body)
			}
			if body["error"] == nil || body["message"] == nil {
				t.Errorf("%s: body %v, want error and message", tc.name, body)
			}
		}

		status, closed := adminCall(t, srv.URL, "POST", path, "bearer "+adminToken)
		if status != 200 {
			t.Fatalf("close: %d %v", status, closed)
		}
		if closed["day"] != today || closed["movements"] != 2.0 || closed["gross_total"] != 12500.0 ||
			closed["balanced"] != true || closed["positions_sum"] != 0.0 || closed["currency"] != "KRW" {
			t.Errorf("report %v", closed)
		}
		positions := map[string]float64{}
		for _, p := range closed["positions"].([]any) {
			p := p.(map[string]any)
			positions[p["bank_code"].(string)] = p["net_position"].(float64)
			if p["bank_name"] == "" {
				t.Errorf("position without a bank name: %v", p)
			}
		}
		if positions["088"] != -12500 || positions["097"] != 12500 || len(positions) != 2 {
			t.Errorf("positions %v, want 088 -12,500 and 097 +12,500", positions)
		}
		for _, method := range []string{"GET", "POST"} {
			status, again := adminCall(t, srv.URL, method, path, bearer)
			if status != 200 || !jsonEqual(t, again, closed) {
				t.Errorf("%s after closing: %d %v, want 200 with %v", method, status, again, closed)
			}
		}

		// Without a token the admin API does not exist.
		bare := httptest.NewServer((&obxhttp.Server{Service: s.Service, Settlements: s.Settlements}).Handler())
		t.Cleanup(bare.Close)
		if status, _ := adminCall(t, bare.URL, "GET", path, bearer); status != 404 {
			t.Errorf("admin API without a configured token: %d, want 404", status)
		}
	})
}

func jsonEqual(t *testing.T, a, b map[string]any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
