package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
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
			if _, err := db.AcceptTransfer(ctx, tr, obx.LimitUse{TSPDaily: 1_000_000}, "a", time.Now().Add(time.Hour)); err != nil {
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
