package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

var t0 = time.Date(2026, 11, 23, 1, 2, 3, 456789000, time.UTC)

func newTSP(t *testing.T, db *sqlstore.DB, code string) *obx.TSP {
	t.Helper()
	tsp := &obx.TSP{Name: "TSP " + code, ClientUseCode: code, Status: obx.TSPActive, CreatedAt: t0}
	if err := db.CreateTSP(context.Background(), tsp); err != nil {
		t.Fatal(err)
	}
	return tsp
}

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		db := dbtest.Open(t, e)
		applied, err := db.Migrate(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", applied)
		}
		v, err := db.Version(context.Background())
		if err != nil || v < 9 {
			t.Errorf("Version() = %d, %v; want >= 9", v, err)
		}
		// Migration 9, in Go, gives transfers a fill factor on PostgreSQL
		// and does nothing on SQLite, which has no such setting.
		if e.Name == sqlstore.Postgres {
			var opts string
			if err := db.SQL().QueryRowContext(context.Background(),
				`SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE relname = 'transfers'`).Scan(&opts); err != nil {
				t.Fatal(err)
			}
			if opts != "fillfactor=60" {
				t.Errorf("transfers' options %q, want fillfactor=60", opts)
			}
		}
	})
}

func TestParticipants(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000001")
		got, err := db.TSPByUseCode(ctx, "T991000001")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tsp, got); diff != "" {
			t.Errorf("TSPByUseCode (-want +got):\n%s", diff)
		}
		if err := db.CreateTSP(ctx, &obx.TSP{Name: "dup", ClientUseCode: "T991000001", Status: obx.TSPActive}); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("duplicate CreateTSP: %v, want conflict", err)
		}
		if _, err := db.TSP(ctx, 42); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("TSP(unknown) = %v, want not_found", err)
		}

		c := &obx.Client{ID: "client-1", TSPID: tsp.ID, Name: "App", SecretHash: []byte("$2a$hash"),
			RedirectURIs: []string{"https://app.example/cb", "http://localhost:9000/cb"},
			Scopes:       []string{"login", "inquiry", "transfer", "oob"}, Env: obx.EnvSandbox, CreatedAt: t0}
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		gotC, err := db.Client(ctx, "client-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, gotC); diff != "" {
			t.Errorf("Client (-want +got):\n%s", diff)
		}
		c.RedirectURIs = []string{"http://127.0.0.1:5555/cb"}
		c.RevokedAt = t0.Add(time.Hour)
		if err := db.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if gotC, _ = db.Client(ctx, "client-1"); !cmp.Equal(c, gotC) {
			t.Errorf("after UpdateClient: %s", cmp.Diff(c, gotC))
		}
		if err := db.UpdateClient(ctx, &obx.Client{ID: "nope"}); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("UpdateClient(unknown) = %v", err)
		}
		if _, err := db.Client(ctx, "nope"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("Client(unknown) = %v, want not_found", err)
		}
	})
}

func registration(tsp *obx.TSP, ci string, inquiry, transfer bool, nums ...string) *obx.Registration {
	reg := &obx.Registration{
		TSPID: tsp.ID, ClientUseCode: tsp.ClientUseCode,
		User:     obx.User{CI: ci, Name: "김민준", BirthDate: "19900101", Gender: "M"},
		BankCode: "088", Inquiry: inquiry, Transfer: transfer,
		AgreedAt: t0, ExpiresAt: t0.AddDate(1, 0, 0),
	}
	for _, n := range nums {
		reg.Accounts = append(reg.Accounts, obx.BankAccount{BankCode: "088", BranchCode: "0880001", Number: n,
			HolderName: "김민준", HolderType: obx.HolderPerson, Type: obx.AccountDemand})
	}
	return reg
}

func TestRegisterAndConsents(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tspA := newTSP(t, db, "T991000001")
		tspB := newTSP(t, db, "M202600002")
		ci := strings.Repeat("A", 86) + "=="

		user, accts, err := db.Register(ctx, registration(tspA, ci, true, false, "110123456789", "110987654321"))
		if err != nil {
			t.Fatal(err)
		}
		if len(user.SeqNo) != 10 || len(accts) != 2 {
			t.Fatalf("Register: seq %q, %d accounts", user.SeqNo, len(accts))
		}
		for _, a := range accts {
			if len(a.FintechUseNum) != 24 || !strings.HasPrefix(a.FintechUseNum, "1991000001") {
				t.Errorf("fintech use number %q: want 24 digits starting 1+991000001", a.FintechUseNum)
			}
			if err := a.Consent(obx.ScopeInquiry, t0.Add(time.Hour)); err != nil {
				t.Errorf("inquiry consent: %v", err)
			}
			if err := a.Consent(obx.ScopeTransfer, t0); !errors.Is(err, obx.ErrWithdrawConsentMissing) {
				t.Errorf("transfer consent = %v, want ErrWithdrawConsentMissing", err)
			}
			if err := a.Consent(obx.ScopeInquiry, t0.AddDate(1, 0, 0)); !errors.Is(err, obx.ErrConsentExpired) {
				t.Errorf("inquiry consent after a year = %v, want ErrConsentExpired", err)
			}
		}

		// Registering again with transfer keeps the numbers and the inquiry consent.
		user2, again, err := db.Register(ctx, registration(tspA, ci, false, true, "110123456789"))
		if err != nil {
			t.Fatal(err)
		}
		if user2.SeqNo != user.SeqNo || again[0].FintechUseNum != accts[0].FintechUseNum {
			t.Errorf("re-registration changed identity: %s/%s vs %s/%s", user2.SeqNo, again[0].FintechUseNum, user.SeqNo, accts[0].FintechUseNum)
		}
		if again[0].InquiryAgreedAt.IsZero() || again[0].TransferAgreedAt.IsZero() {
			t.Errorf("re-registration lost a consent: %+v", again[0])
		}
		if !again[0].InquiryAgreedAt.Equal(t0) {
			t.Errorf("time round trip: got %v want %v", again[0].InquiryAgreedAt, t0)
		}

		// Another TSP gets its own numbers for the same account, and cannot see A's.
		userB, acctsB, err := db.Register(ctx, registration(tspB, ci, true, true, "110123456789"))
		if err != nil {
			t.Fatal(err)
		}
		if userB.SeqNo != user.SeqNo {
			t.Errorf("same CI gave two users: %s, %s", userB.SeqNo, user.SeqNo)
		}
		if acctsB[0].FintechUseNum == accts[0].FintechUseNum {
			t.Error("two TSPs share a fintech use number")
		}
		if _, err := db.Account(ctx, tspB.ID, accts[0].FintechUseNum); !errors.Is(err, obx.ErrUnknownFintechNum) {
			t.Errorf("TSP B reading A's number: %v, want ErrUnknownFintechNum", err)
		}
		if _, err := db.UpdateAlias(ctx, tspB.ID, accts[0].FintechUseNum, "mine"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("TSP B renaming A's account: %v, want not_found", err)
		}
		if _, err := db.CancelAccount(ctx, tspB.ID, accts[0].FintechUseNum, obx.ScopeInquiry, t0); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("TSP B cancelling A's account: %v, want not_found", err)
		}

		a, err := db.UpdateAlias(ctx, tspA.ID, accts[0].FintechUseNum, "급여통장")
		if err != nil || a.Alias != "급여통장" {
			t.Fatalf("UpdateAlias = %+v, %v", a, err)
		}

		// Cancelling both consents cancels the account.
		a, err = db.CancelAccount(ctx, tspA.ID, accts[0].FintechUseNum, obx.ScopeInquiry, t0)
		if err != nil || a.State != obx.AccountStateActive {
			t.Fatalf("cancel inquiry: %+v, %v", a, err)
		}
		a, err = db.CancelAccount(ctx, tspA.ID, accts[0].FintechUseNum, obx.ScopeTransfer, t0)
		if err != nil || a.State != obx.AccountStateCancelled {
			t.Fatalf("cancel transfer: %+v, %v", a, err)
		}
		if err := a.Consent(obx.ScopeInquiry, t0); !errors.Is(err, obx.ErrAccountCancelled) {
			t.Errorf("consent on cancelled account = %v", err)
		}
		list, err := db.Accounts(ctx, tspA.ID, user.SeqNo, false)
		if err != nil || len(list) != 1 {
			t.Fatalf("Accounts(active) = %d, %v; want 1", len(list), err)
		}
		list, err = db.Accounts(ctx, tspA.ID, user.SeqNo, true)
		if err != nil || len(list) != 2 {
			t.Fatalf("Accounts(all) = %d, %v; want 2", len(list), err)
		}

		// Closing the user with A cancels A's accounts but not B's.
		if err := db.SetLinkState(ctx, tspA.ID, user.SeqNo, obx.LinkClosed, t0); err != nil {
			t.Fatal(err)
		}
		l, err := db.Link(ctx, tspA.ID, user.SeqNo)
		if err != nil || l.State != obx.LinkClosed {
			t.Fatalf("Link = %+v, %v", l, err)
		}
		if list, _ := db.Accounts(ctx, tspA.ID, user.SeqNo, false); len(list) != 0 {
			t.Errorf("closed user still has %d active accounts", len(list))
		}
		if list, _ := db.Accounts(ctx, tspB.ID, user.SeqNo, false); len(list) != 1 {
			t.Errorf("closing with A touched B: %d accounts", len(list))
		}
		if err := db.SetLinkState(ctx, tspA.ID, "1999999999", obx.LinkClosed, t0); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("SetLinkState(unknown user) = %v", err)
		}

		// A new consent reactivates the link.
		if _, _, err := db.Register(ctx, registration(tspA, ci, true, false, "110123456789")); err != nil {
			t.Fatal(err)
		}
		if l, _ := db.Link(ctx, tspA.ID, user.SeqNo); l.State != obx.LinkActive {
			t.Errorf("link after re-consent = %s", l.State)
		}
	})
}

func TestSecretIsSharedAndStable(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		db := dbtest.Open(t, e)
		n := 0
		gen := func() ([]byte, error) { n++; return []byte{byte(n), 2, 3}, nil }
		a, err := db.Secret(context.Background(), "hmac", gen)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.Secret(context.Background(), "hmac", gen)
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) || n != 1 {
			t.Errorf("Secret changed or regenerated: %v %v (gen called %d times)", a, b, n)
		}
	})
}

// TestRegisterConcurrently: the same person consenting to the same account
// many times at once (double clicks, two replicas) ends with one user and one
// fintech use number, and no consent fails.
func TestRegisterConcurrently(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000001")
		ci := strings.Repeat("C", 86) + "=="
		const n = 8
		var wg sync.WaitGroup
		users := make([]string, n)
		nums := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, accts, err := db.Register(ctx, registration(tsp, ci, true, true, "110555000111"))
				errs[i] = err
				if err == nil {
					users[i], nums[i] = u.SeqNo, accts[0].FintechUseNum
				}
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("concurrent Register %d: %v", i, errs[i])
			}
			if users[i] != users[0] || nums[i] != nums[0] {
				t.Errorf("concurrent registrations diverged: users %v, numbers %v", users, nums)
				break
			}
		}
		if list, _ := db.Accounts(ctx, tsp.ID, users[0], true); len(list) != 1 {
			t.Errorf("%d accounts after concurrent registration, want 1", len(list))
		}
	})
}

// TestLimitsBeyondInt32: limits are won amounts in int64; one above
// 2,147,483,647 must work on both engines.
func TestLimitsBeyondInt32(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newTSP(t, db, "T991000001")
		now := time.Now()
		tr := &obx.Transfer{ID: "T" + strings.Repeat("0", 19), TSPID: tsp.ID, Kind: obx.TransferDeposit,
			BankTranID: "T991000001U000000001", TranDay: obx.KSTDay(now), LimitDay: obx.KSTDay(now),
			RequestHash: "h", Amount: 2_500_000_000, Echo: []byte("{}")}
		prior, _, err := db.AcceptTransfer(ctx, tr, obx.LimitUse{TSPDaily: 3_000_000_000, Deposit: true}, "me", now.Add(time.Minute))
		if err != nil || prior != nil {
			t.Fatalf("AcceptTransfer under a 3,000,000,000 limit = %v, %v", prior, err)
		}
		tr2 := *tr
		tr2.ID, tr2.BankTranID, tr2.State = "T"+strings.Repeat("1", 19), "T991000001U000000002", ""
		if _, _, err := db.AcceptTransfer(ctx, &tr2, obx.LimitUse{TSPDaily: 3_000_000_000, Deposit: true}, "me", now.Add(time.Minute)); obx.ErrorCode(err) != obx.ELIMIT {
			t.Errorf("second 2,500,000,000 under a 3,000,000,000 limit: %v, want limit_exceeded", err)
		}
	})
}
