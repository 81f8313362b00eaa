package banksim_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/banksim/banktest"
)

// TestContract runs the obx.Bank contract on the simulated bank in process.
func TestContract(t *testing.T) {
	banktest.Run(t, func(t *testing.T, sim *banksim.Bank) banktest.Target {
		return banktest.Target{
			Bank:      sim,
			SetFaults: func(_ context.Context, f banksim.Faults) error { return sim.SetFaults(f) },
		}
	})
}

func TestDemoCustomers(t *testing.T) {
	cs := banksim.DemoCustomers(banktest.Seed)
	if len(cs) < 10 {
		t.Fatalf("DemoCustomers() = %d customers, want at least 10", len(cs))
	}
	if diff := cmp.Diff(cs, banksim.DemoCustomers(banktest.Seed)); diff != "" {
		t.Errorf("DemoCustomers() differs between calls (-first +second):\n%s", diff)
	}
	seenCI, seenLogin := map[string]bool{}, map[string]bool{}
	holders := map[string]int{}
	for _, c := range cs {
		raw, err := base64.StdEncoding.DecodeString(c.CI)
		if len(c.CI) != 88 || err != nil || len(raw) != 64 {
			t.Errorf("%s: CI %q is not 88 characters of standard base64 of 64 bytes", c.Name, c.CI)
		}
		if seenCI[c.CI] || seenLogin[c.Login] {
			t.Errorf("%s: duplicate CI or login", c.Name)
		}
		seenCI[c.CI], seenLogin[c.Login] = true, true
		if len(c.BirthDate) != 8 || (c.Gender != "M" && c.Gender != "F") || len(c.CellNo) != 11 || c.Email == "" || c.Password == "" {
			t.Errorf("%+v: incomplete customer", c)
		}
		if len(c.Banks) < 3 || !slices.Contains(c.Banks, banksim.TestbedBankCode) {
			t.Errorf("%s holds accounts at %v, want several banks including the testbed", c.Name, c.Banks)
		}
		for _, code := range c.Banks {
			holders[code]++
			if banksim.DemoBankName(code) == "" {
				t.Errorf("%s: bank %s is not a demo bank", c.Name, code)
			}
		}
		if got := c.Logins(); len(got) != len(c.Banks) {
			t.Errorf("%s: Logins() = %v, want one per bank", c.Name, got)
		}
	}
	for _, b := range banksim.DemoBanks {
		if holders[b.Code] < 3 {
			t.Errorf("bank %s has %d demo customers, want at least 3", b.Code, holders[b.Code])
		}
		if got := banksim.DemoLogins(b.Code, banktest.Seed); len(got) != holders[b.Code] {
			t.Errorf("DemoLogins(%s) = %d logins, want %d", b.Code, len(got), holders[b.Code])
		}
	}

	other := banksim.DemoCustomers(banktest.Seed + 1)
	if other[0].Name != cs[0].Name || other[0].CI == cs[0].CI {
		t.Errorf("another seed should keep the people and change their CIs")
	}
}

func TestReopenDoesNotReseed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bank.db")
	b := openBank(t, "088", path, 1)
	login := banksim.DemoLogins("088", 1)[0]
	c, err := b.SignIn(t.Context(), login.Login, login.Password)
	if err != nil {
		t.Fatalf("SignIn() = %v", err)
	}
	acct := c.Accounts[0].Number
	bal := banktest.MustBalance(t, b, acct)
	if _, err := b.Credit(t.Context(), obx.Operation{ID: "op-1", AccountNum: acct, Amount: 5}); err != nil {
		t.Fatalf("Credit() = %v", err)
	}
	rows := len(banktest.History(t, b, obx.TransactionQuery{AccountNum: acct}))
	b.Close()

	// A different seed does not matter once the ledger exists.
	b = openBank(t, "088", path, 2)
	if got := banktest.MustBalance(t, b, acct); got != bal+5 {
		t.Errorf("balance after reopen = %d, want %d", got, bal+5)
	}
	if got := len(banktest.History(t, b, obx.TransactionQuery{AccountNum: acct})); got != rows {
		t.Errorf("history after reopen has %d rows, want %d", got, rows)
	}
	if _, err := b.SignIn(t.Context(), login.Login, login.Password); err != nil {
		t.Errorf("SignIn() after reopen = %v", err)
	}
	if op, err := b.Operation(t.Context(), "op-1"); err != nil || op.Status != obx.OperationApplied {
		t.Errorf("Operation() after reopen = %v, %v; want applied", op, err)
	}
	b.Close()

	_, err = banksim.Open(t.Context(), banksim.Config{Code: "004", DSN: path})
	banktest.WantCode(t, err, obx.EINVALID)
}

func TestOpenInvalid(t *testing.T) {
	for _, cfg := range []banksim.Config{
		{Code: "88", DSN: ":memory:"},
		{Code: "abc", DSN: ":memory:"},
		{Code: "088"},
	} {
		_, err := banksim.Open(t.Context(), cfg)
		banktest.WantCode(t, err, obx.EINVALID)
	}
}

func TestMemoryDSN(t *testing.T) {
	b := openBank(t, "097", ":memory:", 3)
	a := banktest.DemandAccount(t, b, 0)
	if _, err := b.Debit(t.Context(), obx.Operation{ID: "op", AccountNum: a.Number, Amount: 1}); err != nil {
		t.Fatalf("Debit() = %v", err)
	}
	banktest.CheckChain(t, banktest.History(t, b, obx.TransactionQuery{AccountNum: a.Number, Ascending: true}), banktest.MustBalance(t, b, a.Number))
}

// TestFaultDraws checks that the fault draws follow the seed: two banks with
// the same seed fail the same calls.
func TestFaultDraws(t *testing.T) {
	t.Parallel()
	outcomes := func(seed int64) []string {
		b := openBank(t, "999", ":memory:", seed)
		if err := b.SetFaults(banksim.Faults{ErrorRate: 0.3, TimeoutRate: 0.1}); err != nil {
			t.Fatal(err)
		}
		acct := banksim.DemoTSPAccounts("999")[0].Number
		var out []string
		for range 60 {
			// The deadline ends the timeout draws; it is long enough that a
			// call that drew success finishes within it even under -race on
			// a loaded machine, where 50 ms once turned a success into a timeout.
			ctx, cancel := context.WithTimeout(t.Context(), 250*time.Millisecond)
			_, err := b.Balance(ctx, acct)
			cancel()
			out = append(out, obx.ErrorCode(err))
		}
		return out
	}
	a, b := outcomes(11), outcomes(11)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different fault draws:\n%s", diff)
	}
	count := map[string]int{}
	for _, c := range a {
		count[c]++
	}
	if count[obx.EUNAVAILABLE] == 0 || count[obx.ETIMEOUT] == 0 || count[""] == 0 {
		t.Errorf("outcomes %v: want failures, timeouts and successes", count)
	}
	if slices.Equal(a, outcomes(12)) {
		t.Errorf("another seed drew the same 60 outcomes")
	}
}

// TestCloseReleasesHungCalls checks that a call held by a timeout fault ends
// when the bank closes, even if its context never does.
func TestCloseReleasesHungCalls(t *testing.T) {
	b, err := banksim.Open(t.Context(), banksim.Config{Code: "999", DSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetFaults(banksim.Faults{TimeoutRate: 1}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := b.Balance(context.Background(), banksim.DemoTSPAccounts("999")[0].Number)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	b.Close()
	select {
	case err := <-done:
		banktest.WantCode(t, err, obx.ETIMEOUT)
	case <-time.After(5 * time.Second):
		t.Fatal("call still blocked after Close")
	}
}

func TestFaultsValidate(t *testing.T) {
	for _, f := range []banksim.Faults{
		{ErrorRate: -0.1},
		{TimeoutRate: 1.5},
		{ErrorRate: 0.6, LostResponseRate: 0.6},
		{Latency: -time.Second},
	} {
		if err := f.Validate(); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("Faults%+v.Validate() = %v, want EINVALID", f, err)
		}
	}
	if err := (banksim.Faults{ErrorRate: 0.2, TimeoutRate: 0.3, LostResponseRate: 0.5, Latency: time.Second}).Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestStatusNotDelayed(t *testing.T) {
	b := openBank(t, "999", ":memory:", 0)
	if err := b.SetFaults(banksim.Faults{Latency: time.Hour, ErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	st, err := b.Status(t.Context())
	if err != nil || !st.Up {
		t.Errorf("Status() = %+v, %v; want up at once", st, err)
	}
	// The same faults do delay and fail every other call.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = b.Operation(ctx, "x")
	banktest.WantCode(t, err, obx.ETIMEOUT)
}

func openBank(t testing.TB, code, dsn string, seed int64) *banksim.Bank {
	t.Helper()
	b, err := banksim.Open(context.Background(), banksim.Config{Code: code, DSN: dsn, Seed: seed, Now: banktest.Clock()})
	if err != nil {
		t.Fatalf("Open(%s) = %v", code, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
