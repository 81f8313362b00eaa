package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
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

// TestPayerHint: a withdrawal's hint lets the token's read bring the payer
// and contract along (on PostgreSQL), and what PayerAndContract then returns
// is what it returns without one. A hint never reads another TSP's account,
// is used once and only for its own key, and a hint PostgreSQL could not
// take as text stays out of the shared query.
func TestPayerHint(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp, c, _ := newTokenFixture(t, db, "T991000041")
		other, oc, _ := newTokenFixture(t, db, "T991000042")
		_, accts, err := db.Register(ctx, registration(tsp, strings.Repeat("F", 86)+"==", true, true, "120000000001", "120000000002"))
		if err != nil {
			t.Fatal(err)
		}
		_, otherAccts, err := db.Register(ctx, registration(other, strings.Repeat("G", 86)+"==", true, true, "120000000003"))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []*obx.Contract{{TSPID: tsp.ID, MainBank: "097", DailyWithdrawLimit: 5000}, {TSPID: other.ID, MainBank: "097", DailyWithdrawLimit: 7000}} {
			if err := db.SetContract(ctx, k); err != nil {
				t.Fatal(err)
			}
			if err := db.AddContractAccount(ctx, &obx.ContractAccount{TSPID: k.TSPID, BankCode: "097", AccountNum: "9700001",
				HolderName: "오비엑스", Kind: obx.ContractBoth}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			sig string
			cl  *obx.Client
		}{{"sig-own", c}, {"sig-other", oc}} {
			if err := db.CreateToken(ctx, tokenRecord(obx.TokenAccess, tc.sig, "req-"+tc.sig, tc.cl, "")); err != nil {
				t.Fatal(err)
			}
		}
		hinted := func(fin, cntr string) (context.Context, *obx.PayerHint) {
			h := &obx.PayerHint{FintechUseNum: fin, CntrAccountNum: cntr}
			return obx.NewContextWithPayerHint(ctx, h), h
		}
		type answer struct {
			A   *obx.Account
			K   *obx.Contract
			CA  *obx.ContractAccount
			Err string
		}
		payer := func(ctx context.Context, tspID int64, fin, cntr string) answer {
			a, k, ca, err := db.PayerAndContract(ctx, tspID, fin, cntr)
			ans := answer{A: a, K: k, CA: ca}
			if err != nil {
				ans.Err = err.Error()
			}
			return ans
		}

		for _, cntr := range []string{"9700001", "9700009"} { // registered, not
			hctx, h := hinted(accts[0].FintechUseNum, cntr)
			rec, _, tp, err := db.TokenWithClient(hctx, obx.TokenAccess, "sig-own")
			if err != nil || rec.Signature != "sig-own" || tp.ID != tsp.ID {
				t.Fatalf("hinted token read: %+v, %+v, %v", rec, tp, err)
			}
			if (h.Read != nil) != (e.Name == sqlstore.Postgres) {
				t.Fatalf("%s: hint read along = %v", e.Name, h.Read != nil)
			}
			// Another key in the same context reads afresh.
			if diff := cmp.Diff(payer(ctx, tsp.ID, accts[1].FintechUseNum, cntr), payer(hctx, tsp.ID, accts[1].FintechUseNum, cntr)); diff != "" {
				t.Errorf("another payer than the hint's (-plain +hinted):\n%s", diff)
			}
			if (h.Read != nil) != (e.Name == sqlstore.Postgres) {
				t.Fatalf("a call with another key used the hint")
			}
			if diff := cmp.Diff(payer(ctx, tsp.ID, accts[0].FintechUseNum, cntr), payer(hctx, tsp.ID, accts[0].FintechUseNum, cntr)); diff != "" {
				t.Errorf("contract account %s (-plain +hinted):\n%s", cntr, diff)
			}
			if h.Read != nil {
				t.Errorf("the hint's read is still there after its use")
			}
		}

		// Another TSP's customer, hinted by either TSP's token: never read
		// along, and the payer's own read refuses it.
		for _, tc := range []struct {
			sig string
			fin string
			tsp int64
		}{{"sig-own", otherAccts[0].FintechUseNum, tsp.ID}, {"sig-other", accts[0].FintechUseNum, other.ID}} {
			hctx, h := hinted(tc.fin, "9700001")
			if _, _, tp, err := db.TokenWithClient(hctx, obx.TokenAccess, tc.sig); err != nil || tp.ID != tc.tsp {
				t.Fatalf("token %s hinting another TSP's payer: %+v, %v", tc.sig, tp, err)
			}
			if h.Read != nil {
				t.Errorf("token %s read another TSP's payer along: %+v", tc.sig, h.Read)
			}
			if ans := payer(hctx, tc.tsp, tc.fin, "9700001"); ans.A != nil || !strings.Contains(ans.Err, "fintech") {
				t.Errorf("token %s: another TSP's payer: %+v", tc.sig, ans)
			}
		}

		// A hint PostgreSQL would refuse as text must not fail the read.
		for _, fin := range []string{"12\x00", "\xff\xfe", strings.Repeat("1", 25)} {
			hctx, h := hinted(fin, "9700001")
			if _, _, _, err := db.TokenWithClient(hctx, obx.TokenAccess, "sig-own"); err != nil {
				t.Errorf("hint %q: token read: %v", fin, err)
			}
			if h.Read != nil {
				t.Errorf("hint %q was read along", fin)
			}
		}
		hctx, _ := hinted(accts[0].FintechUseNum, "9700001")
		if _, _, _, err := db.TokenWithClient(hctx, obx.TokenAccess, "sig-none"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("unknown token with a hint: %v, want ENOTFOUND", err)
		}
	})
}
