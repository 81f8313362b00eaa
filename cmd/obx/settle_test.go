package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

// settleHub is a hub database in which transfers complete at chosen times.
type settleHub struct {
	dsn   string
	db    *sqlstore.DB
	tspID int64
	n     int
}

func newSettleHub(t *testing.T, e dbtest.Engine) *settleHub {
	t.Helper()
	h := &settleHub{dsn: e.NewDSN(t)}
	var err error
	if h.db, err = sqlstore.Open(context.Background(), h.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.db.Close() })
	tsp := &obx.TSP{Name: "settle test", ClientUseCode: "T991000009", Status: obx.TSPActive}
	if err := h.db.CreateTSP(context.Background(), tsp); err != nil {
		t.Fatal(err)
	}
	h.tspID = tsp.ID
	return h
}

// complete records a transfer of amount from bank to bank that completes at at.
func (h *settleHub) complete(t *testing.T, at time.Time, from, to string, amount int64) {
	t.Helper()
	ctx := context.Background()
	h.db.Now = func() time.Time { return at }
	h.n++
	tr := &obx.Transfer{
		ID: fmt.Sprintf("T%s%06d", at.UTC().Format("20060102150405"), h.n), TSPID: h.tspID, Kind: obx.TransferWithdraw,
		BankTranID: fmt.Sprintf("T991000009U%09d", h.n), TranDay: obx.KSTDay(at), LimitDay: obx.KSTDay(at),
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

// settle runs obx settle and returns what it printed.
func (h *settleHub) settle(t *testing.T, day string, flags ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), append([]string{"settle", "--db", h.dsn, "--date", day}, flags...), &out, io.Discard)
	return out.String(), err
}

func (h *settleHub) settleJSON(t *testing.T, day string) (settlementReport, string) {
	t.Helper()
	out, err := h.settle(t, day, "--format", "json")
	if err != nil {
		t.Fatalf("settle %s: %v", day, err)
	}
	var rep settlementReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("settle %s printed no JSON report: %v\n%s", day, err, out)
	}
	return rep, out
}

// kstMidnight returns the start of the KST day days before today.
func kstMidnight(daysAgo int) time.Time {
	y, m, d := time.Now().In(kstZone).AddDate(0, 0, -daysAgo).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, kstZone)
}

func TestSettle(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newSettleHub(t, e)
		d0 := kstMidnight(3)
		day, next := d0.Format("20060102"), d0.AddDate(0, 0, 1).Format("20060102")
		h.complete(t, d0.Add(10*time.Hour), "088", "097", 10_000)
		h.complete(t, d0.Add(11*time.Hour), "004", "097", 5_000)
		h.complete(t, d0.Add(12*time.Hour), "097", "088", 3_000)
		h.complete(t, d0.Add(23*time.Hour+59*time.Minute), "088", "004", 2_500)
		h.complete(t, d0.Add(24*time.Hour), "088", "097", 1_000) // the next day's

		rep, first := h.settleJSON(t, day)
		want := settlementReport{Day: day, Currency: "KRW", Movements: 4, GrossTotal: 20_500, Balanced: true,
			Positions: []bankPosition{
				{BankCode: "004", BankName: "KB국민은행", NetPosition: -5_000 + 2_500},
				{BankCode: "088", BankName: "신한은행", NetPosition: -10_000 + 3_000 - 2_500},
				{BankCode: "097", BankName: "오픈은행", NetPosition: 10_000 + 5_000 - 3_000},
			}}
		if diff := cmp.Diff(want, rep, cmpopts.IgnoreFields(settlementReport{}, "ClosedAt")); diff != "" {
			t.Errorf("report (-want +got):\n%s", diff)
		}
		if time.Since(rep.ClosedAt) > time.Minute {
			t.Errorf("closed_at %v, want about now", rep.ClosedAt)
		}

		// Settling again changes nothing, even after a transfer of the closed
		// day completes late: it goes to the next cycle.
		if _, again := h.settleJSON(t, day); again != first {
			t.Errorf("second settle printed\n%s\nwant the first report\n%s", again, first)
		}
		h.complete(t, d0.Add(15*time.Hour), "004", "088", 700)
		if _, again := h.settleJSON(t, day); again != first {
			t.Errorf("a late movement changed the closed cycle:\n%s\nwant\n%s", again, first)
		}
		rep, _ = h.settleJSON(t, next)
		want = settlementReport{Day: next, Currency: "KRW", Movements: 2, GrossTotal: 1_700, Balanced: true,
			Positions: []bankPosition{
				{BankCode: "004", BankName: "KB국민은행", NetPosition: -700},
				{BankCode: "088", BankName: "신한은행", NetPosition: -1_000 + 700},
				{BankCode: "097", BankName: "오픈은행", NetPosition: 1_000},
			}}
		if diff := cmp.Diff(want, rep, cmpopts.IgnoreFields(settlementReport{}, "ClosedAt")); diff != "" {
			t.Errorf("next day's report (-want +got):\n%s", diff)
		}

		text, err := h.settle(t, day)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range []string{
			`^settlement cycle ` + day + ` \(KST business day\), closed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST$`,
			`^bank +net position \(KRW\)  name$`,
			`^004 +-2,500  KB국민은행$`,
			`^088 +-9,500  신한은행$`,
			`^097 +12,000  오픈은행$`,
			`^movements +4$`,
			`^gross total +20,500 KRW$`,
			`^check +OK: the 3 positions sum to 0$`,
		} {
			if !regexp.MustCompile(`(?m)` + line).MatchString(text) {
				t.Errorf("text report lacks a line matching %s:\n%s", line, text)
			}
		}
	})
}

func TestSettleRefuses(t *testing.T) {
	h := newSettleHub(t, dbtest.Engines()[0])
	today := kstMidnight(0).Format("20060102")
	for _, tc := range []struct {
		name  string
		args  []string
		error string
	}{
		{"an open cycle", []string{"--date", today}, "is open until"},
		{"an open cycle with a cut-off", []string{"--date", kstMidnight(-1).Format("20060102"), "--settlement-cutoff", "23:30"}, "cut-off 23:30"},
		{"a malformed date", []string{"--date", "2026-11-24"}, "YYYYMMDD"},
		{"an impossible date", []string{"--date", "20260230"}, "YYYYMMDD"},
		{"a malformed cut-off", []string{"--date", "20260101", "--settlement-cutoff", "25:00"}, "HH:MM"},
		{"an unknown format", []string{"--date", "20260101", "--format", "xml"}, "--format"},
		{"no date", nil, "--date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), append([]string{"settle", "--db", h.dsn}, tc.args...), &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("settle %v: %v, want an error with %q", tc.args, err, tc.error)
			}
			if out.Len() > 0 {
				t.Errorf("settle %v printed %q", tc.args, out.String())
			}
		})
	}
}

func TestParseSettleConfig(t *testing.T) {
	if _, err := parseSettleConfig("25:00"); err == nil {
		t.Error("a malformed cut-off was accepted")
	}
	if c, err := parseSettleConfig("23:30"); err != nil || c.Cutoff.String() != "23:30" {
		t.Errorf("parseSettleConfig = %+v, %v", c, err)
	}
}
