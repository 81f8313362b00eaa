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

// TestSaveTransferMovesForwardOnly: a driver that lost its transfer to
// another (a replica whose lease ran out mid-batch) must not move it back,
// and of drivers finishing one transfer at once, exactly one may: the other
// would give its amount back to the limits a second time.
func TestSaveTransferMovesForwardOnly(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000031")
		accept := func(n string) *obx.Transfer {
			tr := &obx.Transfer{ID: "T20261123010203" + n, TSPID: tsp.ID, Kind: obx.TransferWithdraw,
				BankTranID: "T991000031U00000000" + n[len(n)-1:], TranDay: "20261123", LimitDay: "20261123", RequestHash: "h",
				Amount: 1000, UserSeqNo: "1000000001",
				Debit: obx.TransferLeg{BankCode: "097", AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: "088", AccountNum: "2"}}
			if _, _, err := db.AcceptTransfer(ctx, tr, obx.LimitUse{TSPDaily: 1_000_000}, "a", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			return tr
		}

		tr := accept("000001")
		stale := *tr
		tr.State = obx.TransferCrediting
		if err := db.SaveTransfer(ctx, tr, "a"); err != nil {
			t.Fatal(err)
		}
		stale.State = obx.TransferDebited
		if err := db.SaveTransfer(ctx, &stale, "a"); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("saving debited over crediting: %v, want ECONFLICT", err)
		}
		if got, _ := db.Transfer(ctx, tsp.ID, tr.BankTranID, tr.TranDay); got.State != obx.TransferCrediting {
			t.Errorf("state %s, want crediting", got.State)
		}

		tr = accept("000002")
		var wg sync.WaitGroup
		var mu sync.Mutex
		saved := 0
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := *tr
				mine.State = obx.TransferFailed
				if db.SaveTransfer(ctx, &mine, "a") == nil {
					mu.Lock()
					saved++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		u, err := db.Usage(ctx, tsp.ID, "", "20261123")
		if err != nil {
			t.Fatal(err)
		}
		if saved != 1 || u.TSPWithdrawn != 1000 {
			t.Errorf("%d of 16 concurrent saves finished the transfer; the TSP has used %d KRW, want 1 and 1000", saved, u.TSPWithdrawn)
		}
	})
}

// TestSaveTransfersTogether saves many transfers at once, so that they share
// transactions: some complete, some fail, some belong to another driver. Each
// call must get its own outcome, failed ones give their amounts back, and
// exactly the completed ones are booked for settlement.
func TestSaveTransfersTogether(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000032")
		const n = 60
		trs := make([]*obx.Transfer, n)
		for i := range trs {
			owner := "a"
			if i%6 == 5 {
				owner = "b" // another replica drives it: saves by a conflict
			}
			trs[i] = &obx.Transfer{ID: fmt.Sprintf("T2026112301%06d", i), TSPID: tsp.ID, Kind: obx.TransferWithdraw,
				BankTranID: fmt.Sprintf("T991000032U%09d", i), TranDay: "20261123", LimitDay: "20261123", RequestHash: "h",
				Amount: 100, UserSeqNo: "1000000001",
				Debit: obx.TransferLeg{BankCode: "097", AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: "088", AccountNum: "2"}}
			if _, _, err := db.AcceptTransfer(ctx, trs[i], obx.LimitUse{TSPDaily: 1_000_000}, owner, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, tr := range trs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr.State = obx.TransferCompleted
				if i%3 == 1 {
					tr.State = obx.TransferFailed
				}
				errs[i] = db.SaveTransfer(ctx, tr, "a")
			}()
		}
		wg.Wait()
		var completed, failed int64
		for i, err := range errs {
			switch {
			case i%6 == 5:
				if obx.ErrorCode(err) != obx.ECONFLICT {
					t.Errorf("transfer %d of another driver saved: %v", i, err)
				}
				continue
			case err != nil:
				t.Errorf("transfer %d: %v", i, err)
			case trs[i].State == obx.TransferCompleted:
				completed++
			default:
				failed++
			}
			got, err := db.Transfer(ctx, tsp.ID, trs[i].BankTranID, "20261123")
			if err != nil || got.State != trs[i].State {
				t.Errorf("transfer %d stored as %v (%v), want %s", i, got, err, trs[i].State)
			}
		}
		u, err := db.Usage(ctx, tsp.ID, "", "20261123")
		if err != nil {
			t.Fatal(err)
		}
		if want := (n - failed) * 100; u.TSPWithdrawn != want {
			t.Errorf("TSP used %d, want %d after %d failed", u.TSPWithdrawn, want, failed)
		}
		var movements int64
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM interbank_movements`).Scan(&movements); err != nil {
			t.Fatal(err)
		}
		if movements != completed {
			t.Errorf("%d movements booked, want %d", movements, completed)
		}
	})
}

// TestOutcomeFollowsState: the outcome column is ” until a save makes the
// transfer final and then its final state, on both save paths (the single
// statement and the transaction a failure takes); unfinished_transfers lists
// exactly the unfinished transfers, and recovery finds exactly those.
func TestOutcomeFollowsState(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000032")
		outcome := func(tr *obx.Transfer) string {
			t.Helper()
			var o string
			if err := db.SQL().QueryRowContext(ctx, `SELECT outcome FROM transfers WHERE id = $1`, tr.ID).Scan(&o); err != nil {
				t.Fatal(err)
			}
			return o
		}
		var trs []*obx.Transfer
		for i, final := range []string{obx.TransferCompleted, obx.TransferFailed, ""} {
			tr := &obx.Transfer{ID: fmt.Sprintf("T2026112301020300000%d", i), TSPID: tsp.ID, Kind: obx.TransferWithdraw,
				BankTranID: fmt.Sprintf("T991000032U00000000%d", i), TranDay: "20261123", LimitDay: "20261123", RequestHash: "h",
				Amount: 1000, UserSeqNo: "1000000001",
				Debit: obx.TransferLeg{BankCode: "097", AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: "088", AccountNum: "2"}}
			if _, _, err := db.AcceptTransfer(ctx, tr, obx.LimitUse{TSPDaily: 1_000_000}, "a", time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			for _, st := range []string{obx.TransferDebiting, obx.TransferCrediting} {
				tr.State = st
				if err := db.SaveTransfer(ctx, tr, "a"); err != nil {
					t.Fatal(err)
				}
				if o := outcome(tr); o != "" {
					t.Errorf("%s: outcome %q, want ''", st, o)
				}
			}
			if final != "" {
				tr.State = final
				if err := db.SaveTransfer(ctx, tr, "a"); err != nil {
					t.Fatal(err)
				}
			}
			if o := outcome(tr); o != final {
				t.Errorf("outcome %q, want %q", o, final)
			}
			trs = append(trs, tr)
		}
		// A transfer refused for its limit leaves nothing behind either.
		over := &obx.Transfer{ID: "T20261123010203000008", TSPID: tsp.ID, Kind: obx.TransferWithdraw,
			BankTranID: "T991000032U000000008", TranDay: "20261123", LimitDay: "20261123", RequestHash: "h",
			Amount: 5_000_000, UserSeqNo: "1000000001",
			Debit: obx.TransferLeg{BankCode: "097", AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: "088", AccountNum: "2"}}
		if _, _, err := db.AcceptTransfer(ctx, over, obx.LimitUse{TSPDaily: 1_000_000}, "a", time.Now()); obx.ErrorCode(err) != obx.ELIMIT {
			t.Fatalf("accept over the limit: %v, want ELIMIT", err)
		}
		// unfinished_transfers (migration 00008) lists exactly the unfinished.
		var listed []string
		rows, err := db.SQL().QueryContext(ctx, `SELECT id FROM unfinished_transfers ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			listed = append(listed, id)
		}
		rows.Close()
		if len(listed) != 1 || listed[0] != trs[2].ID {
			t.Errorf("unfinished_transfers lists %v, want only %s", listed, trs[2].ID)
		}
		claimed, err := db.ClaimTransfers(ctx, "b", time.Now(), time.Now().Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || claimed[0].ID != trs[2].ID {
			t.Errorf("recovery claimed %v, want only the unfinished %s", claimed, trs[2].ID)
		}
		final := &obx.Transfer{ID: "T20261123010203000009", TSPID: tsp.ID, State: obx.TransferCompleted}
		if _, _, err := db.AcceptTransfer(ctx, final, obx.LimitUse{}, "a", time.Now()); err == nil {
			t.Error("a transfer accepted in a final state")
		}
	})
}

// TestTidyUnfinished: the hub's vacuum of unfinished_transfers gives back
// the pages that a burst of finished transfers left dead, which on a server
// without autovacuum nothing else would. SQLite has nothing to do.
func TestTidyUnfinished(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		if e.Name != sqlstore.Postgres {
			if err := db.TidyUnfinished(ctx); err != nil {
				t.Fatal(err)
			}
			return
		}
		size := func() int64 {
			t.Helper()
			var n int64
			if err := db.SQL().QueryRowContext(ctx, `SELECT pg_relation_size('unfinished_transfers')`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO unfinished_transfers (id) SELECT 'T' || g FROM generate_series(1, 20000) AS g`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM unfinished_transfers`); err != nil {
			t.Fatal(err)
		}
		before := size()
		if before == 0 {
			t.Fatal("20,000 rows took no pages")
		}
		if err := db.TidyUnfinished(ctx); err != nil {
			t.Fatal(err)
		}
		if after := size(); after != 0 {
			t.Errorf("after TidyUnfinished the table has %d bytes, want 0 (it had %d)", after, before)
		}
	})
}
