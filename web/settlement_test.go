package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
)

var kst = time.FixedZone("KST", 9*3600)

// kstMidnight returns the start of the KST day days before today.
func kstMidnight(daysAgo int) time.Time {
	y, m, d := time.Now().In(kst).AddDate(0, 0, -daysAgo).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, kst)
}

// moveMoney records a completed transfer of amount from bank to bank at at,
// which books an interbank movement into at's settlement cycle.
func moveMoney(t *testing.T, h *testHub, tspID int64, n int, at time.Time, from, to string, amount int64) {
	t.Helper()
	ctx := context.Background()
	now := h.db.Now
	h.db.Now = func() time.Time { return at }
	defer func() { h.db.Now = now }()
	tr := &obx.Transfer{
		ID: fmt.Sprintf("T%s%06d", at.UTC().Format("20060102150405"), n), TSPID: tspID, Kind: obx.TransferWithdraw,
		BankTranID: fmt.Sprintf("T991000019U%09d", n), TranDay: obx.KSTDay(at), LimitDay: obx.KSTDay(at),
		RequestHash: "h", Amount: amount, UserSeqNo: "1000000001",
		Debit: obx.TransferLeg{BankCode: from, AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: to, AccountNum: "2"},
	}
	if _, _, err := h.db.AcceptTransfer(ctx, tr, obx.LimitUse{}, "test", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tr.State, tr.RspCode = obx.TransferCompleted, obx.BankRspOK
	if err := h.db.SaveTransfer(ctx, tr, "test"); err != nil {
		t.Fatal(err)
	}
}

// TestSettlementConsole: every role sees the settlement cycles with each
// bank's net position; only an admin closes a cycle, past its cut-off, from
// the console's form or the admin API, and the closing is audited. Bad
// input gets a clear error and changes nothing.
func TestSettlementConsole(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHubOn(t, e)
		ctx := context.Background()
		tsp := &obx.TSP{Name: "settle", ClientUseCode: "T991000019", Status: obx.TSPActive}
		if err := h.db.CreateTSP(ctx, tsp); err != nil {
			t.Fatal(err)
		}
		d0, d1, today := kstMidnight(3), kstMidnight(2), kstMidnight(0)
		day0, day1, day2 := d0.Format("20060102"), d1.Format("20060102"), today.Format("20060102")
		moveMoney(t, h, tsp.ID, 1, d0.Add(10*time.Hour), "088", "097", 10_000)
		moveMoney(t, h, tsp.ID, 2, d0.Add(11*time.Hour), "097", "088", 2_500)
		moveMoney(t, h, tsp.ID, 3, d1.Add(9*time.Hour), "097", "088", 700)
		moveMoney(t, h, tsp.ID, 4, time.Now(), "088", "097", 300)

		aud := signInAPI(t, h, "aud@center.example")
		st, m := aud.call("GET", "/settlements", "")
		list, _ := m["list"].([]any)
		if st != http.StatusOK || len(list) != 3 {
			t.Fatalf("list: %d %v", st, m)
		}
		first := list[2].(map[string]any)
		if first["day"] != day0 || first["state"] != "open" || first["closable"] != true || first["movements"] != 2.0 {
			t.Errorf("open past cycle: %v", first)
		}
		pos := first["positions"].([]any)
		if len(pos) != 2 || pos[0].(map[string]any)["bank_code"] != "088" || pos[0].(map[string]any)["net_position"] != -7500.0 ||
			pos[1].(map[string]any)["net_position"] != 7500.0 || first["balanced"] != true {
			t.Errorf("positions: %v", pos)
		}
		if c := list[0].(map[string]any); c["day"] != day2 || c["closable"] != false {
			t.Errorf("today's cycle: %v", c)
		}

		admin := signInAPI(t, h, "admin@center.example")
		rev := signInAPI(t, h, "rev@center.example")
		anon := &apiClient{t: t, base: h.srv.URL}
		for _, bad := range []struct {
			name   string
			c      *apiClient
			path   string
			status int
			code   string
		}{
			{"no token", anon, "/settlements/" + day0 + "/close", 401, "unauthorized"},
			{"an auditor", aud, "/settlements/" + day0 + "/close", 403, "forbidden"},
			{"a reviewer", rev, "/settlements/" + day0 + "/close", 403, "forbidden"},
			{"a malformed date", admin, "/settlements/2026-11-24/close", 400, "invalid"},
			{"an impossible date", admin, "/settlements/20261332/close", 400, "invalid"},
			{"a cycle before its cut-off", admin, "/settlements/" + day2 + "/close", 409, "conflict"},
		} {
			if st, m := bad.c.call("POST", bad.path, ""); st != bad.status || m["error"] != bad.code || m["message"] == "" {
				t.Errorf("%s: %d %v, want %d %s", bad.name, st, m, bad.status, bad.code)
			}
		}
		if st, m := aud.call("GET", "/settlements/2026-01", ""); st != 400 {
			t.Errorf("GET a malformed date: %d %v", st, m)
		}
		if es, _ := h.db.Audit(ctx, obx.AuditQuery{Action: "settlement."}); len(es) != 0 {
			t.Fatalf("refused requests audited: %v", es)
		}

		st, m = admin.call("POST", "/settlements/"+day0+"/close", "")
		if st != http.StatusOK || m["state"] != "closed" || m["closed_at"] == nil || m["gross_total"] != 12500.0 {
			t.Fatalf("close: %d %v", st, m)
		}
		closedAt := m["closed_at"]
		if st, m := admin.call("POST", "/settlements/"+day0+"/close", ""); st != http.StatusOK || m["closed_at"] != closedAt {
			t.Errorf("close again: %d %v, want the same report", st, m)
		}
		if st, m := rev.call("GET", "/settlements/"+day0, ""); st != http.StatusOK || m["state"] != "closed" || m["closable"] != false {
			t.Errorf("closed cycle: %d %v", st, m)
		}
		es, _ := h.db.Audit(ctx, obx.AuditQuery{Action: "settlement.close"})
		if len(es) != 1 || es[0].Actor != "staff:admin@center.example" || es[0].Subject != "settlement:"+day0 {
			t.Errorf("audit: %v", es)
		}

		// The console page: everyone sees positions; only an admin gets the
		// button, and only a form with the session's CSRF token closes.
		b := h.browser(t)
		b.staff("rev@center.example")
		if st := b.get("/console/settlements"); st != http.StatusOK || !b.has("cycle-"+day1) || b.has(`id="close-`) {
			t.Errorf("reviewer's page: %d\n%s", st, b.body)
		}
		if st := b.post("/console/settlements/"+day1+"/close", nil); st != http.StatusForbidden {
			t.Errorf("reviewer's close: %d", st)
		}
		b = h.browser(t)
		b.staff("admin@center.example")
		if st := b.get("/console/settlements"); st != http.StatusOK || !b.has(`id="close-`+day1+`"`) || b.has(`id="close-`+day0+`"`) ||
			b.has(`id="close-`+day2+`"`) || !b.has("-700 KRW") {
			t.Errorf("admin's page: %d\n%s", st, b.body)
		}
		if st := b.post("/console/settlements/"+day1+"/close", url.Values{"csrf_token": {"forged"}}); st != http.StatusForbidden {
			t.Errorf("forged CSRF token: %d", st)
		}
		if st := b.post("/console/settlements/"+day2+"/close", nil); st != http.StatusConflict || !b.has("is open until") {
			t.Errorf("close before the cut-off: %d\n%s", st, b.body)
		}
		if st := b.post("/console/settlements/"+day1+"/close", nil); st != http.StatusOK || !b.has("Settlement cycle "+day1+" closed.") {
			t.Errorf("close from the console: %d\n%s", st, b.body)
		}
		if es, _ := h.db.Audit(ctx, obx.AuditQuery{Action: "settlement.close"}); len(es) != 2 {
			t.Errorf("%d settlement.close entries, want 2", len(es))
		}
	})
}
