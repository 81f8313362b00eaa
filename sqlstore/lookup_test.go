package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
)

// TestCoalescedReads: many concurrent reads of tokens, accounts, contracts and
// a withdrawal's payer with its contract (which PostgreSQL answers several to
// a query) each get their own answer:
// the right row, a copy of their own when two ask for the same key, and
// ENOTFOUND for what is missing, whatever else shares the query.
func TestCoalescedReads(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp, c, _ := newTokenFixture(t, db, "T991000031")
		other := newTSP(t, db, "T991000032")
		_, accts, err := db.Register(ctx, registration(tsp, strings.Repeat("D", 86)+"==", true, true, "110000000001", "110000000002"))
		if err != nil {
			t.Fatal(err)
		}
		// other has a customer but no contract.
		_, otherAccts, err := db.Register(ctx, registration(other, strings.Repeat("E", 86)+"==", true, true, "110000000003"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetContract(ctx, &obx.Contract{TSPID: tsp.ID, MainBank: "097", DailyWithdrawLimit: 5000}); err != nil {
			t.Fatal(err)
		}
		if err := db.AddContractAccount(ctx, &obx.ContractAccount{TSPID: tsp.ID, BankCode: "097", AccountNum: "9700001",
			HolderName: "오비엑스", Kind: obx.ContractBoth}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := db.CreateToken(ctx, tokenRecord(obx.TokenAccess, fmt.Sprintf("sig-%d", i), "req", c, "")); err != nil {
				t.Fatal(err)
			}
		}

		const rounds = 40
		var wg sync.WaitGroup
		errs := make(chan error, rounds*12)
		got := make(chan *obx.Account, rounds)
		for i := range rounds {
			wg.Add(5)
			go func() {
				defer wg.Done()
				sig := fmt.Sprintf("sig-%d", i%4) // sig-3 does not exist
				rec, cl, tp, err := db.TokenWithClient(ctx, obx.TokenAccess, sig)
				switch {
				case i%4 == 3 && obx.ErrorCode(err) != obx.ENOTFOUND:
					errs <- fmt.Errorf("token %s: %v, want ENOTFOUND", sig, err)
				case i%4 != 3 && err != nil:
					errs <- fmt.Errorf("token %s: %v", sig, err)
				case i%4 != 3 && (rec.Signature != sig || cl.ID != c.ID || tp.ID != tsp.ID):
					errs <- fmt.Errorf("token %s: got %s of client %s, TSP %d", sig, rec.Signature, cl.ID, tp.ID)
				}
			}()
			go func() {
				defer wg.Done()
				want := accts[i%2]
				a, err := db.Account(ctx, tsp.ID, want.FintechUseNum)
				if err != nil || a.Number != want.Number {
					errs <- fmt.Errorf("account %s: %+v, %v", want.FintechUseNum, a, err)
					return
				}
				got <- a
			}()
			go func() {
				defer wg.Done()
				// Another TSP's number is another TSP's business.
				if _, err := db.Account(ctx, other.ID, accts[0].FintechUseNum); obx.ErrorCode(err) != obx.ENOTFOUND {
					errs <- fmt.Errorf("account of another TSP: %v, want ENOTFOUND", err)
				}
			}()
			go func() {
				defer wg.Done()
				num := []string{"9700001", "9700009"}[i%2]
				k, ca, err := db.ContractWithAccount(ctx, tsp.ID, num)
				switch {
				case err != nil || k.DailyWithdrawLimit != 5000:
					errs <- fmt.Errorf("contract: %+v, %v", k, err)
				case num == "9700001" && (ca == nil || ca.HolderName != "오비엑스"):
					errs <- fmt.Errorf("contract account %s: %+v", num, ca)
				case num == "9700009" && ca != nil:
					errs <- fmt.Errorf("unregistered contract account %s: %+v", num, ca)
				}
				if _, _, err := db.ContractWithAccount(ctx, other.ID, num); obx.ErrorCode(err) != obx.ENOTFOUND {
					errs <- fmt.Errorf("contract of a TSP without one: %v, want ENOTFOUND", err)
				}
			}()
			go func() {
				defer wg.Done()
				want := accts[i%2]
				num := []string{"9700001", "9700009"}[i%2]
				a, k, ca, err := db.PayerAndContract(ctx, tsp.ID, want.FintechUseNum, num)
				switch {
				case err != nil || a.Number != want.Number || k.DailyWithdrawLimit != 5000:
					errs <- fmt.Errorf("payer %s and contract: %+v, %+v, %v", want.FintechUseNum, a, k, err)
				case num == "9700001" && (ca == nil || ca.HolderName != "오비엑스"):
					errs <- fmt.Errorf("payer's contract account %s: %+v", num, ca)
				case num == "9700009" && ca != nil:
					errs <- fmt.Errorf("payer's unregistered contract account %s: %+v", num, ca)
				}
				// Missing rows, in the same batches: the account first, then
				// the contract, which comes back with the account it did find.
				if _, _, _, err := db.PayerAndContract(ctx, tsp.ID, "199999999999999999999999", num); !errors.Is(err, obx.ErrUnknownFintechNum) {
					errs <- fmt.Errorf("unknown payer: %v, want ErrUnknownFintechNum", err)
				}
				if a, _, _, err := db.PayerAndContract(ctx, other.ID, want.FintechUseNum, num); a != nil || !errors.Is(err, obx.ErrUnknownFintechNum) {
					errs <- fmt.Errorf("payer of another TSP: %+v, %v, want ErrUnknownFintechNum", a, err)
				}
				own := otherAccts[0]
				if a, k, _, err := db.PayerAndContract(ctx, other.ID, own.FintechUseNum, num); a == nil || a.Number != own.Number || k != nil || !errors.Is(err, obx.ErrNoContract) {
					errs <- fmt.Errorf("payer of a TSP without a contract: %+v, %+v, %v, want the account and ErrNoContract", a, k, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		close(got)
		for err := range errs {
			t.Error(err)
		}
		seen := map[*obx.Account]bool{}
		for a := range got {
			if seen[a] {
				t.Fatalf("two readers of account %s share one value", a.FintechUseNum)
			}
			seen[a] = true
		}
	})
}
