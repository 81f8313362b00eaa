package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
)

// TestAcceptTransfersTogether accepts many withdrawals at once, so that they
// share transactions, against a TSP limit and per-customer limits that only
// some fit, with clients retrying some requests and reusing some ids for
// other requests. Limits must hold exactly, each retry must get the original,
// each reuse ErrDuplicateTranID, and refused transfers must leave no row.
func TestAcceptTransfersTogether(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000033")
		const (
			n         = 120
			amount    = 1000
			tspLimit  = 70 * amount // 70 of 120 distinct requests fit the TSP's limit…
			userLimit = 20 * amount // …and at most 20 each of 4 customers'
		)
		lim := obx.LimitUse{TSPDaily: tspLimit, UserDaily: userLimit}
		type result struct {
			prior *obx.Transfer
			err   error
		}
		results := make([]result, n)
		reqs := make([]*obx.Transfer, n)
		for i := range reqs {
			id, hash := i, "h"
			switch i % 10 {
			case 8: // a retry of request i-1
				id = i - 1
			case 9: // another request under request i-2's id
				id, hash = i-2, "other"
			}
			reqs[i] = &obx.Transfer{ID: fmt.Sprintf("T2026112302%06d", i), TSPID: tsp.ID, Kind: obx.TransferWithdraw,
				BankTranID: fmt.Sprintf("T991000033U%09d", id), TranDay: "20261123", LimitDay: "20261123", RequestHash: fmt.Sprintf("%s%d", hash, id),
				Amount: amount, UserSeqNo: fmt.Sprintf("100000000%d", id%4), State: obx.TransferDebiting,
				Debit: obx.TransferLeg{BankCode: "097", AccountNum: "1"}, Credit: obx.TransferLeg{BankCode: "088", AccountNum: "2"}}
		}
		var wg sync.WaitGroup
		for i, tr := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, _, err := db.AcceptTransfer(ctx, tr, lim, "a", time.Now().Add(time.Hour))
				results[i] = result{p, err}
			}()
		}
		wg.Wait()

		accepted := map[string]bool{} // by bank_tran_id
		perUser := map[string]int64{}
		var total int64
		for i, r := range results {
			if r.err == nil && r.prior == nil {
				accepted[reqs[i].BankTranID] = true
				perUser[reqs[i].UserSeqNo] += amount
				total += amount
			}
		}
		for i, r := range results {
			tr := reqs[i]
			switch {
			case r.err == nil && r.prior == nil: // accepted
			case r.err == nil: // a retry: the original, accepted
				if r.prior.BankTranID != tr.BankTranID || r.prior.RequestHash != tr.RequestHash || !accepted[tr.BankTranID] {
					t.Errorf("request %d: retry answered with %+v", i, r.prior)
				}
			case obx.ErrorCode(r.err) == obx.ECONFLICT:
				if !accepted[tr.BankTranID] || r.prior == nil || r.prior.RequestHash == tr.RequestHash {
					t.Errorf("request %d: %v with prior %v", i, r.err, r.prior)
				}
			case obx.ErrorCode(r.err) == obx.ELIMIT:
				if r.prior != nil {
					t.Errorf("request %d refused with a prior", i)
				}
			default:
				t.Errorf("request %d: %v", i, r.err)
			}
		}
		if total > tspLimit {
			t.Errorf("accepted %d won over the TSP limit %d", total, int64(tspLimit))
		}
		for u, v := range perUser {
			if v > userLimit {
				t.Errorf("customer %s: accepted %d over the limit %d", u, v, int64(userLimit))
			}
		}
		// 4 customers × 20 = 80 ≥ 70: the TSP limit binds, and must be used
		// up, since more than 70 distinct requests came.
		if total != tspLimit {
			t.Errorf("accepted %d won; the TSP limit %d was not used up", total, int64(tspLimit))
		}
		u, err := db.Usage(ctx, tsp.ID, "", "20261123")
		if err != nil || u.TSPWithdrawn != total {
			t.Errorf("usage %+v (err %v), want %d", u, err, total)
		}
		for seq, v := range perUser {
			u, err := db.Usage(ctx, tsp.ID, seq, "20261123")
			if err != nil || u.UserWithdrawn != v {
				t.Errorf("customer %s usage %+v (err %v), want %d", seq, u, err, v)
			}
		}
		var rows int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM transfers WHERE tsp_id = $1`, tsp.ID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != len(accepted) {
			t.Errorf("%d transfer rows, want the %d accepted", rows, len(accepted))
		}
	})
}
