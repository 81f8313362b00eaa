package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

var kst = time.FixedZone("KST", 9*60*60)

func TestCutoff(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, kst)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		cutoff, at, day, end string
	}{
		{"24:00", "2026-11-24 00:00:00", "20261124", "2026-11-25 00:00"},
		{"24:00", "2026-11-24 23:59:59", "20261124", "2026-11-25 00:00"},
		{"00:00", "2026-11-24 12:00:00", "20261124", "2026-11-25 00:00"},
		{"23:30", "2026-11-24 23:29:59", "20261124", "2026-11-24 23:30"},
		{"23:30", "2026-11-24 23:30:00", "20261125", "2026-11-25 23:30"},
		{"23:30", "2026-11-24 23:59:00", "20261125", "2026-11-25 23:30"},
		{"23:30", "2026-11-25 00:10:00", "20261125", "2026-11-25 23:30"},
		{"16:00", "2026-11-24 15:59:59", "20261124", "2026-11-24 16:00"},
		{"16:00", "2026-11-24 16:00:00", "20261125", "2026-11-25 16:00"},
		{"16:00", "2026-12-31 17:00:00", "20270101", "2027-01-01 16:00"},
	} {
		t.Run(tc.cutoff+" "+tc.at, func(t *testing.T) {
			c, err := sqlstore.ParseCutoff(tc.cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Day(at(tc.at).UTC()); got != tc.day {
				t.Errorf("Day = %s, want %s", got, tc.day)
			}
			end, err := c.End(tc.day)
			if err != nil || end.In(kst).Format("2006-01-02 15:04") != tc.end {
				t.Errorf("End(%s) = %v, %v; want %s KST", tc.day, end.In(kst), err, tc.end)
			}
			if end.Location() != time.UTC {
				t.Errorf("End is in %v, want UTC", end.Location())
			}
		})
	}
	for _, bad := range []string{"", "7:30", "24:01", "23:60", "2330", "23:30:00", "noon"} {
		if _, err := sqlstore.ParseCutoff(bad); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("ParseCutoff(%q) = %v, want invalid", bad, err)
		}
	}
	for _, bad := range []string{"", "2026112", "202611245", "2026-11-24", "20261324"} {
		if _, err := sqlstore.Cutoff(0).End(bad); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("End(%q) = %v, want invalid", bad, err)
		}
	}
}

// TestSettleRacesMovements closes a cycle while transfers of its day keep
// completing: each movement must land in exactly one cycle, and the closed
// report must count exactly the movements its cycle holds, then and later.
func TestSettleRacesMovements(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000008")
		day := time.Date(2026, 11, 20, 12, 0, 0, 0, kst)
		db.Now = func() time.Time { return day }
		cycles := &sqlstore.Cycles{DB: db}

		const workers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers*each+1)
		settled := make(chan *obx.Settlement, 1)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if w == 0 && i == each/2 {
						s, err := cycles.Settle(ctx, "20261120", day.AddDate(0, 0, 2))
						errs <- err
						settled <- s
					}
					n := w*each + i
					tr := &obx.Transfer{ID: fmt.Sprintf("T20261120030000%06d", n), TSPID: tsp.ID, Kind: obx.TransferWithdraw,
						BankTranID: fmt.Sprintf("T991000008U%09d", n), TranDay: "20261120", LimitDay: "20261120", RequestHash: "h",
						Amount: int64(1 + n), UserSeqNo: "1000000001",
						Debit:  obx.TransferLeg{BankCode: []string{"004", "088", "097"}[n%3], AccountNum: "1"},
						Credit: obx.TransferLeg{BankCode: []string{"097", "004", "088"}[n%3], AccountNum: "2"}}
					if _, _, err := db.AcceptTransfer(ctx, tr, obx.LimitUse{}, "test", day.Add(time.Hour)); err != nil {
						errs <- err
						return
					}
					tr.State = obx.TransferCompleted
					errs <- db.SaveTransfer(ctx, tr, "test")
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		first := <-settled
		var inDay, sumDay, inNext int64
		if err := db.SQL().QueryRow(`SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM interbank_movements WHERE cycle_day = '20261120'`).Scan(&inDay, &sumDay); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM interbank_movements WHERE cycle_day = '20261121'`).Scan(&inNext); err != nil {
			t.Fatal(err)
		}
		if first.Movements != inDay || first.Total != sumDay {
			t.Errorf("the closed report counts %d movements of %d won; the cycle holds %d of %d", first.Movements, first.Total, inDay, sumDay)
		}
		if inDay+inNext != workers*each {
			t.Errorf("%d movements in the day's cycle and %d in the next, want %d in all", inDay, inNext, workers*each)
		}
		var sum int64
		for _, p := range first.Positions {
			sum += p
		}
		if sum != 0 {
			t.Errorf("positions %v sum to %d", first.Positions, sum)
		}
		again, err := db.Settlement(ctx, "20261120")
		if err != nil {
			t.Fatal(err)
		}
		if again.Movements != first.Movements || again.Total != first.Total || !again.ClosedAt.Equal(first.ClosedAt) {
			t.Errorf("report read later %+v, want %+v", again, first)
		}
		if _, err := db.Settlement(ctx, "20261121"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("Settlement of an open cycle: %v, want not_found", err)
		}
		t.Logf("%d movements before the close, %d after", inDay, inNext)
	})
}

// TestMovementsFollowTheCutoff: with a 23:30 cut-off, a transfer completing at
// 23:45 KST belongs to the next business day's cycle, and one at 23:15 to its own.
func TestMovementsFollowTheCutoff(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000005")
		var err error
		if db.Cutoff, err = sqlstore.ParseCutoff("23:30"); err != nil {
			t.Fatal(err)
		}
		for i, hm := range []string{"23:15", "23:45"} {
			at, _ := time.ParseInLocation("20060102 15:04", "20261120 "+hm, kst)
			db.Now = func() time.Time { return at }
			tr := &obx.Transfer{ID: fmt.Sprintf("T%d", i), TSPID: tsp.ID, Kind: obx.TransferWithdraw,
				BankTranID: fmt.Sprintf("T991000005U%09d", i), TranDay: "20261120", LimitDay: "20261120", RequestHash: "h",
				Amount: 100, UserSeqNo: "1000000001",
				Debit: obx.TransferLeg{BankCode: "088", AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: "097", AccountNum: "2"}}
			if _, _, err := db.AcceptTransfer(ctx, tr, obx.LimitUse{}, "o", at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			tr.State = obx.TransferCompleted
			if err := db.SaveTransfer(ctx, tr, "o"); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[string]string{"T0": "20261120", "T1": "20261121"} {
			var day string
			if err := db.SQL().QueryRow(`SELECT cycle_day FROM interbank_movements WHERE transfer_id = $1`, id).Scan(&day); err != nil || day != want {
				t.Errorf("%s in cycle %s (%v), want %s", id, day, err, want)
			}
		}
	})
}
