// Package banktest is the contract suite for obx.Bank, run against a simulated
// bank: in process by package banksim, and through the bank protocol by package
// bankhttp, so that both honour the same behaviour, errors included.
package banktest

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
)

// The simulated bank every contract test runs on.
const (
	Code = banksim.TestbedBankCode // every demo customer holds accounts here
	Seed = 20250616
)

// Epoch is where the simulated bank's clock starts; seeded histories end here.
var Epoch = time.Date(2025, 6, 16, 1, 0, 0, 0, time.UTC)

// Clock returns a clock that starts at Epoch and advances a millisecond on every
// reading, so that time is deterministic yet ledger rows get distinct times.
func Clock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return Epoch.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// OpenSim opens a fresh simulated bank Code with Seed and Clock on a database in
// t.TempDir, closed when t ends.
func OpenSim(t testing.TB) *banksim.Bank {
	t.Helper()
	b, err := banksim.Open(context.Background(), banksim.Config{
		Code: Code,
		DSN:  filepath.Join(t.TempDir(), "bank.db"),
		Seed: Seed,
		Now:  Clock(),
	})
	if err != nil {
		t.Fatalf("banksim.Open() = %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Target is the implementation under test and how to inject faults into it.
type Target struct {
	Bank obx.Bank
	// SetFaults sets the faults of the simulated bank behind Bank, the way its
	// operator would: directly, or through the protocol.
	SetFaults func(context.Context, banksim.Faults) error
}

// Run runs the contract. For each group of tests it opens a fresh simulated
// bank with OpenSim and passes it to wrap, which returns the Target to test:
// the simulated bank itself, or a client that reaches it.
func Run(t *testing.T, wrap func(t *testing.T, sim *banksim.Bank) Target) {
	t.Run("Read", func(t *testing.T) {
		t.Parallel()
		tg := wrap(t, OpenSim(t))
		t.Run("Identity", func(t *testing.T) { testIdentity(t, tg.Bank) })
		t.Run("SignIn", func(t *testing.T) { testSignIn(t, tg.Bank) })
		t.Run("Customer", func(t *testing.T) { testCustomer(t, tg.Bank) })
		t.Run("Account", func(t *testing.T) { testAccount(t, tg.Bank) })
		t.Run("TSPAccounts", func(t *testing.T) { testTSPAccounts(t, tg.Bank) })
		t.Run("History", func(t *testing.T) { testHistory(t, tg.Bank) })
		longest := LongestHistory(t, tg.Bank)
		t.Run("Paging", func(t *testing.T) { testPaging(t, tg.Bank, longest) })
		t.Run("PagingErrors", func(t *testing.T) { testPagingErrors(t, tg.Bank, longest) })
	})
	t.Run("Operations", func(t *testing.T) {
		t.Parallel()
		tg := wrap(t, OpenSim(t))
		t.Run("DebitCredit", func(t *testing.T) { testDebitCredit(t, tg.Bank) })
		t.Run("Refusals", func(t *testing.T) { testRefusals(t, tg.Bank) })
		t.Run("Invalid", func(t *testing.T) { testInvalidOperations(t, tg.Bank) })
		t.Run("ConcurrentRepeats", func(t *testing.T) { testConcurrentRepeats(t, tg.Bank) })
		t.Run("ConcurrentOperations", func(t *testing.T) { testConcurrentOperations(t, tg.Bank) })
		t.Run("LedgerInvariant", func(t *testing.T) { testLedgerInvariant(t, tg.Bank) })
	})
	t.Run("Faults", func(t *testing.T) {
		t.Parallel()
		tg := wrap(t, OpenSim(t))
		set := func(t *testing.T, f banksim.Faults) {
			t.Helper()
			if err := tg.SetFaults(t.Context(), f); err != nil {
				t.Fatalf("SetFaults(%+v) = %v", f, err)
			}
			t.Cleanup(func() {
				if err := tg.SetFaults(context.Background(), banksim.Faults{}); err != nil {
					t.Errorf("clear faults: %v", err)
				}
			})
		}
		t.Run("Down", func(t *testing.T) { testDown(t, tg.Bank, set) })
		t.Run("Maintenance", func(t *testing.T) { testMaintenance(t, tg.Bank, set) })
		t.Run("ErrorRate", func(t *testing.T) { testErrorRate(t, tg.Bank, set) })
		t.Run("Timeout", func(t *testing.T) { testTimeout(t, tg.Bank, set) })
		t.Run("LostResponse", func(t *testing.T) { testLostResponse(t, tg.Bank, set) })
		t.Run("Latency", func(t *testing.T) { testLatency(t, tg.Bank, set) })
		t.Run("InvalidFaults", func(t *testing.T) {
			err := tg.SetFaults(t.Context(), banksim.Faults{ErrorRate: 2})
			WantCode(t, err, obx.EINVALID)
		})
	})
}

type setFaults func(*testing.T, banksim.Faults)

func testIdentity(t *testing.T, b obx.Bank) {
	if b.Code() != Code || b.Name() != banksim.DemoBankName(Code) {
		t.Errorf("Code(), Name() = %q, %q; want %q, %q", b.Code(), b.Name(), Code, banksim.DemoBankName(Code))
	}
	st, err := b.Status(t.Context())
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	if !st.Up || st.Maintenance {
		t.Errorf("Status() = %+v, want up", st)
	}
}

func testSignIn(t *testing.T, b obx.Bank) {
	logins := banksim.DemoLogins(Code, Seed)
	if len(logins) < 10 {
		t.Fatalf("DemoLogins(%s) = %d logins, want every demo customer", Code, len(logins))
	}
	for _, l := range logins {
		c, err := b.SignIn(t.Context(), l.Login, l.Password)
		if err != nil {
			t.Fatalf("SignIn(%s) = %v", l.Login, err)
		}
		if c.CI != l.CI || c.Name != l.Name || len(c.Accounts) == 0 {
			t.Errorf("SignIn(%s) = %s %s with %d accounts, want %s", l.Login, c.Name, c.CI, len(c.Accounts), l.Name)
		}
		for _, a := range c.Accounts {
			if a.BankCode != Code || a.HolderCI != l.CI || a.HolderName != l.Name || a.HolderType != obx.HolderPerson {
				t.Errorf("SignIn(%s) account %+v: wrong bank or holder", l.Login, a)
			}
		}
	}
	for _, tc := range []struct{ name, login, password string }{
		{"WrongPassword", logins[0].Login, logins[0].Password + "x"},
		{"OtherPassword", logins[0].Login, logins[1].Password},
		{"UnknownLogin", "nobody", "pass01"},
		{"Empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.SignIn(t.Context(), tc.login, tc.password)
			WantCode(t, err, obx.EUNAUTHORIZED)
		})
	}
}

func testCustomer(t *testing.T, b obx.Bank) {
	for _, l := range banksim.DemoLogins(Code, Seed) {
		want, err := b.SignIn(t.Context(), l.Login, l.Password)
		if err != nil {
			t.Fatalf("SignIn(%s) = %v", l.Login, err)
		}
		got, err := b.Customer(t.Context(), l.CI)
		if err != nil {
			t.Fatalf("Customer(%s) = %v", l.Name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Customer(%s) mismatch with SignIn (-want +got):\n%s", l.Name, diff)
		}
	}
	_, err := b.Customer(t.Context(), strings.Repeat("A", 86)+"==")
	WantCode(t, err, obx.ENOTFOUND)
}

func testAccount(t *testing.T, b obx.Bank) {
	for _, want := range AllAccounts(t, b) {
		got, err := b.Account(t.Context(), want.Number)
		if err != nil {
			t.Fatalf("Account() = %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("Account() mismatch (-want +got):\n%s", diff)
		}
	}
	_, err := b.Account(t.Context(), "999999999999")
	WantBankError(t, err, obx.BankRspNoAccount)
	_, err = b.Balance(t.Context(), "999999999999")
	WantBankError(t, err, obx.BankRspNoAccount)
}

func testTSPAccounts(t *testing.T, b obx.Bank) {
	for _, want := range banksim.DemoTSPAccounts(Code) {
		got, err := b.Balance(t.Context(), want.Number)
		if err != nil {
			t.Fatalf("Balance(%s) = %v", want.HolderName, err)
		}
		if diff := cmp.Diff(want, got.Account); diff != "" {
			t.Errorf("TSP account mismatch (-want +got):\n%s", diff)
		}
		if got.Balance != banksim.DemoTSPBalance || want.HolderType != obx.HolderBusiness {
			t.Errorf("TSP account %s: balance %d type %s, want %d B", want.HolderName, got.Balance, want.HolderType, banksim.DemoTSPBalance)
		}
	}
}

// testHistory checks every account's whole history against its balance: the
// ledger rows chain, and the balance is the last after-balance.
func testHistory(t *testing.T, b obx.Bank) {
	demand := 0
	for _, a := range AllAccounts(t, b) {
		bal, err := b.Balance(t.Context(), a.Number)
		if err != nil {
			t.Fatalf("Balance() = %v", err)
		}
		h := History(t, b, obx.TransactionQuery{AccountNum: a.Number, Ascending: true})
		CheckChain(t, h, bal.Balance)
		if bal.Available != bal.Balance || len(bal.BankTranDay) != 8 {
			t.Errorf("Balance() = %+v: want Available = Balance and a business date", bal)
		}
		if len(h) > 0 && bal.LastTranOn != h[len(h)-1].At.In(kst).Format("20060102") {
			t.Errorf("Balance().LastTranOn = %s, want the last row's date %s", bal.LastTranOn, h[len(h)-1].At)
		}
		if a.Type == obx.AccountDemand && a.HolderType == obx.HolderPerson && !a.Closed {
			demand++
			if len(h) < 150 {
				t.Errorf("demand account has %d transactions, want hundreds", len(h))
			}
			if first := h[0].At; Epoch.Sub(first) < 170*24*time.Hour || Epoch.Sub(first) > 190*24*time.Hour {
				t.Errorf("history starts %s, want about six months before %s", first, Epoch)
			}
		}
		if a.Closed && bal.Balance != 0 {
			t.Errorf("closed account balance = %d, want 0", bal.Balance)
		}
	}
	if demand < 10 {
		t.Errorf("%d open demand accounts, want at least one per customer", demand)
	}
}

var kst = time.FixedZone("KST", 9*60*60)

// testPaging walks pages of one long history under many queries and compares
// each walk with the same query applied to the whole history.
func testPaging(t *testing.T, b obx.Bank, acct string) {
	all := History(t, b, obx.TransactionQuery{AccountNum: acct, Ascending: true})
	if len(all) < 100 {
		t.Fatalf("longest history has %d rows", len(all))
	}
	from, to := all[40].At, all[len(all)-60].At
	for _, tc := range []struct {
		name string
		q    obx.TransactionQuery
	}{
		{"AscAll", obx.TransactionQuery{Ascending: true}},
		{"DescAll", obx.TransactionQuery{}},
		{"AscIn", obx.TransactionQuery{Ascending: true, Direction: obx.DirectionIn}},
		{"DescOut", obx.TransactionQuery{Direction: obx.DirectionOut}},
		{"DescExplicitAll", obx.TransactionQuery{Direction: obx.DirectionAll, Limit: 25}},
		{"AscRange", obx.TransactionQuery{Ascending: true, From: from, To: to}},
		{"DescRange", obx.TransactionQuery{From: from, To: to}},
		{"DescRangeIn", obx.TransactionQuery{From: from, To: to, Direction: obx.DirectionIn}},
		{"AscRangeOutLimit7", obx.TransactionQuery{Ascending: true, From: from, To: to, Direction: obx.DirectionOut, Limit: 7}},
		{"DescLimit1", obx.TransactionQuery{From: from, To: all[60].At, Limit: 1}},
		{"AscFromOnly", obx.TransactionQuery{Ascending: true, From: from.Add(time.Nanosecond)}},
		{"DescToOnly", obx.TransactionQuery{To: to.Add(-time.Nanosecond)}},
		{"LimitOver", obx.TransactionQuery{Ascending: true, Limit: 1000}},
		{"EmptyRange", obx.TransactionQuery{From: Epoch.Add(time.Hour), To: Epoch.Add(2 * time.Hour)}},
		{"InvertedRange", obx.TransactionQuery{From: to, To: from}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.AccountNum = acct
			got := History(t, b, q)
			want := filter(all, q)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("walked pages differ from the filtered history (-want +got):\n%s", diff)
			}
		})
	}
}

// filter applies q to a whole ascending history, the way pages should.
func filter(all []obx.Transaction, q obx.TransactionQuery) []obx.Transaction {
	var out []obx.Transaction
	for _, tr := range all {
		switch {
		case !q.From.IsZero() && tr.At.Before(q.From),
			!q.To.IsZero() && tr.At.After(q.To),
			q.Direction == obx.DirectionIn && !tr.In,
			q.Direction == obx.DirectionOut && tr.In:
			continue
		}
		out = append(out, tr)
	}
	if !q.Ascending {
		slices.Reverse(out)
	}
	return out
}

func testPagingErrors(t *testing.T, b obx.Bank, acct string) {
	for _, tc := range []struct {
		name string
		q    obx.TransactionQuery
	}{
		{"CursorPunctuation", obx.TransactionQuery{Cursor: "!!!!!!!!!!!!!"}},
		{"CursorShort", obx.TransactionQuery{Cursor: "00000000001"}},
		{"CursorLong", obx.TransactionQuery{Cursor: strings.Repeat("1", 21)}},
		{"CursorZeroID", obx.TransactionQuery{Cursor: "0000000000a0"}},
		{"CursorUppercase", obx.TransactionQuery{Cursor: "0000000000A1"}},
		{"Direction", obx.TransactionQuery{Direction: "X"}},
		{"NegativeLimit", obx.TransactionQuery{Limit: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.AccountNum = acct
			_, err := b.Transactions(t.Context(), q)
			WantCode(t, err, obx.EINVALID)
		})
	}
	_, err := b.Transactions(t.Context(), obx.TransactionQuery{AccountNum: "999999999999"})
	WantBankError(t, err, obx.BankRspNoAccount)
}

func testDebitCredit(t *testing.T, b obx.Bank) {
	ctx := t.Context()
	a := DemandAccount(t, b, 0)
	before := MustBalance(t, b, a.Number)

	debit := obx.Operation{ID: "op-debit-1", AccountNum: a.Number, Amount: 10_000, Currency: "KRW", PrintContent: "오비엑스페이", Counterparty: "오비엑스페이(주)"}
	got, err := b.Debit(ctx, debit)
	if err != nil {
		t.Fatalf("Debit() = %v", err)
	}
	want := &obx.OperationResult{ID: debit.ID, Status: obx.OperationApplied, RspCode: obx.BankRspOK, AfterBalance: before - 10_000, HolderName: a.HolderName}
	if diff := cmp.Diff(want, got, ignoreDayAndMessage); diff != "" {
		t.Errorf("Debit() mismatch (-want +got):\n%s", diff)
	}
	if len(got.BankTranDay) != 8 {
		t.Errorf("Debit().BankTranDay = %q, want YYYYMMDD", got.BankTranDay)
	}
	if bal := MustBalance(t, b, a.Number); bal != before-10_000 {
		t.Errorf("balance after Debit = %d, want %d", bal, before-10_000)
	}
	page, err := b.Transactions(ctx, obx.TransactionQuery{AccountNum: a.Number, Limit: 1})
	if err != nil {
		t.Fatalf("Transactions() = %v", err)
	}
	if len(page.Items) != 1 || page.Items[0].In || page.Items[0].Amount != 10_000 ||
		page.Items[0].AfterBalance != before-10_000 || page.Items[0].PrintContent != "오비엑스페이" {
		t.Errorf("newest transaction = %+v, want the debit", page.Items)
	}

	again, err := b.Debit(ctx, debit)
	if err != nil {
		t.Fatalf("repeated Debit() = %v", err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("repeated Debit() differs from the first (-first +repeat):\n%s", diff)
	}
	if bal := MustBalance(t, b, a.Number); bal != before-10_000 {
		t.Errorf("balance after repeated Debit = %d, want %d", bal, before-10_000)
	}

	credit := obx.Operation{ID: "op-credit-1", AccountNum: a.Number, Amount: 25_000, Counterparty: "모아머니(주)"}
	cres, err := b.Credit(ctx, credit)
	if err != nil {
		t.Fatalf("Credit() = %v", err)
	}
	if cres.Status != obx.OperationApplied || cres.AfterBalance != before+15_000 {
		t.Errorf("Credit() = %+v, want applied with after balance %d", cres, before+15_000)
	}
	if _, err := b.Credit(ctx, credit); err != nil {
		t.Fatalf("repeated Credit() = %v", err)
	}
	if bal := MustBalance(t, b, a.Number); bal != before+15_000 {
		t.Errorf("balance after Credit = %d, want %d", bal, before+15_000)
	}

	op, err := b.Operation(ctx, debit.ID)
	if err != nil {
		t.Fatalf("Operation() = %v", err)
	}
	if diff := cmp.Diff(got, op); diff != "" {
		t.Errorf("Operation() differs from Debit() (-debit +operation):\n%s", diff)
	}
	_, err = b.Operation(ctx, "op-never")
	WantCode(t, err, obx.ENOTFOUND)

	// Holder names are compared without spaces, as banks do.
	spaced := obx.Operation{ID: "op-credit-spaced", AccountNum: a.Number, Amount: 1, HolderName: spaceOut(a.HolderName)}
	if _, err := b.Credit(ctx, spaced); err != nil {
		t.Errorf("Credit() with holder name %q = %v, want applied", spaced.HolderName, err)
	}
	h := History(t, b, obx.TransactionQuery{AccountNum: a.Number, Ascending: true})
	CheckChain(t, h, MustBalance(t, b, a.Number))
}

var ignoreDayAndMessage = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return s == "BankTranDay" || s == "Message"
}, cmp.Ignore())

func spaceOut(s string) string {
	r := []rune(s)
	return string(r[:1]) + " " + string(r[1:])
}

func testRefusals(t *testing.T, b obx.Bank) {
	ctx := t.Context()
	a := DemandAccount(t, b, 1)
	closed := ClosedAccount(t, b)
	before := MustBalance(t, b, a.Number)

	for _, tc := range []struct {
		name    string
		credit  bool
		op      obx.Operation
		rspCode string
	}{
		{"Insufficient", false, obx.Operation{ID: "op-short", AccountNum: a.Number, Amount: before + 1}, obx.BankRspInsufficientBalance},
		{"NoAccountDebit", false, obx.Operation{ID: "op-noacct-d", AccountNum: "999999999999", Amount: 1}, obx.BankRspNoAccount},
		{"NoAccountCredit", true, obx.Operation{ID: "op-noacct-c", AccountNum: "999999999999", Amount: 1}, obx.BankRspNoAccount},
		{"ClosedDebit", false, obx.Operation{ID: "op-closed-d", AccountNum: closed.Number, Amount: 1}, obx.BankRspClosedAccount},
		{"ClosedCredit", true, obx.Operation{ID: "op-closed-c", AccountNum: closed.Number, Amount: 1}, obx.BankRspClosedAccount},
		{"HolderDebit", false, obx.Operation{ID: "op-holder-d", AccountNum: a.Number, Amount: 1, HolderName: "홍길동"}, obx.BankRspHolderMismatch},
		{"HolderCredit", true, obx.Operation{ID: "op-holder-c", AccountNum: a.Number, Amount: 1, HolderName: "홍길동"}, obx.BankRspHolderMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			do := b.Debit
			if tc.credit {
				do = b.Credit
			}
			for range 2 { // the repeat returns the recorded refusal
				_, err := do(ctx, tc.op)
				WantBankError(t, err, tc.rspCode)
			}
			op, err := b.Operation(ctx, tc.op.ID)
			if err != nil {
				t.Fatalf("Operation() = %v", err)
			}
			if op.Status != obx.OperationRejected || op.RspCode != tc.rspCode {
				t.Errorf("Operation() = %+v, want rejected %s", op, tc.rspCode)
			}
		})
	}
	if bal := MustBalance(t, b, a.Number); bal != before {
		t.Errorf("balance after refusals = %d, want %d", bal, before)
	}
	// A refused debit for the whole balance would have been applied had the
	// balance been there: the refusal is recorded, not re-decided.
	if _, err := b.Credit(ctx, obx.Operation{ID: "op-topup", AccountNum: a.Number, Amount: 10}); err != nil {
		t.Fatalf("Credit() = %v", err)
	}
	_, err := b.Debit(ctx, obx.Operation{ID: "op-short", AccountNum: a.Number, Amount: before + 1})
	WantBankError(t, err, obx.BankRspInsufficientBalance)
}

func testInvalidOperations(t *testing.T, b obx.Bank) {
	ctx := t.Context()
	a := DemandAccount(t, b, 2)
	for _, tc := range []struct {
		name string
		op   obx.Operation
	}{
		{"NoID", obx.Operation{AccountNum: a.Number, Amount: 1}},
		{"LongID", obx.Operation{ID: strings.Repeat("x", 65), AccountNum: a.Number, Amount: 1}},
		{"NoAccount", obx.Operation{ID: "op-inv-1", Amount: 1}},
		{"ZeroAmount", obx.Operation{ID: "op-inv-2", AccountNum: a.Number}},
		{"NegativeAmount", obx.Operation{ID: "op-inv-3", AccountNum: a.Number, Amount: -5}},
		{"HugeAmount", obx.Operation{ID: "op-inv-5", AccountNum: a.Number, Amount: banksim.MaxAmount + 1}},
		{"Currency", obx.Operation{ID: "op-inv-4", AccountNum: a.Number, Amount: 1, Currency: "USD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Debit(ctx, tc.op)
			WantCode(t, err, obx.EINVALID)
			_, err = b.Credit(ctx, tc.op)
			WantCode(t, err, obx.EINVALID)
		})
	}
	t.Run("IDReuse", func(t *testing.T) {
		op := obx.Operation{ID: "op-reuse", AccountNum: a.Number, Amount: 100}
		if _, err := b.Debit(ctx, op); err != nil {
			t.Fatalf("Debit() = %v", err)
		}
		_, err := b.Credit(ctx, op)
		WantCode(t, err, obx.ECONFLICT)
		op.Amount = 200
		_, err = b.Debit(ctx, op)
		WantCode(t, err, obx.ECONFLICT)
	})
}

// testConcurrentRepeats sends the same operation from many goroutines at once:
// money moves exactly once and every caller sees the same outcome.
func testConcurrentRepeats(t *testing.T, b obx.Bank) {
	a := DemandAccount(t, b, 3)
	before := MustBalance(t, b, a.Number)
	rowsBefore := len(History(t, b, obx.TransactionQuery{AccountNum: a.Number}))
	op := obx.Operation{ID: "op-concurrent", AccountNum: a.Number, Amount: 7_000}

	const n = 24
	results := make([]*obx.OperationResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = b.Debit(t.Context(), op) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Debit() #%d = %v", i, errs[i])
		}
		if diff := cmp.Diff(results[0], results[i]); diff != "" {
			t.Errorf("Debit() #%d differs from #0:\n%s", i, diff)
		}
	}
	if bal := MustBalance(t, b, a.Number); bal != before-op.Amount {
		t.Errorf("balance = %d, want %d (moved exactly once)", bal, before-op.Amount)
	}
	if rows := len(History(t, b, obx.TransactionQuery{AccountNum: a.Number})); rows != rowsBefore+1 {
		t.Errorf("history has %d rows, want %d", rows, rowsBefore+1)
	}
}

// testConcurrentOperations moves money both ways from many goroutines; the
// ledger must stay chained and balanced.
func testConcurrentOperations(t *testing.T, b obx.Bank) {
	a := DemandAccount(t, b, 4)
	before := MustBalance(t, b, a.Number)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := b.Debit(t.Context(), obx.Operation{ID: "op-many-d-" + itoa(i), AccountNum: a.Number, Amount: 1_000}); err != nil {
				t.Errorf("Debit() = %v", err)
			}
		})
		wg.Go(func() {
			if _, err := b.Credit(t.Context(), obx.Operation{ID: "op-many-c-" + itoa(i), AccountNum: a.Number, Amount: 1_000}); err != nil {
				t.Errorf("Credit() = %v", err)
			}
		})
	}
	wg.Wait()
	bal := MustBalance(t, b, a.Number)
	if bal != before {
		t.Errorf("balance = %d, want %d", bal, before)
	}
	CheckChain(t, History(t, b, obx.TransactionQuery{AccountNum: a.Number, Ascending: true}), bal)
}

// testLedgerInvariant checks that the bank's total changes only by the
// operations it applied, and every history still chains to its balance.
func testLedgerInvariant(t *testing.T, b obx.Bank) {
	ctx := t.Context()
	total := func() int64 {
		var sum int64
		for _, a := range AllAccounts(t, b) {
			sum += MustBalance(t, b, a.Number)
		}
		return sum
	}
	before := total()
	a, c := DemandAccount(t, b, 5), DemandAccount(t, b, 6)
	tsp := banksim.DemoTSPAccounts(Code)[0]
	var moved int64
	for i, step := range []struct {
		credit bool
		acct   string
		amount int64
	}{
		{false, a.Number, 12_345}, {true, tsp.Number, 12_345}, // a transfer to a TSP
		{false, tsp.Number, 50_000}, {true, c.Number, 50_000}, // a payout from a TSP
		{false, c.Number, banksim.MaxAmount}, // refused: 453
		{true, c.Number, 777},
		{false, a.Number, 1},
	} {
		op := obx.Operation{ID: "op-ledger-" + itoa(i), AccountNum: step.acct, Amount: step.amount}
		var err error
		if step.credit {
			_, err = b.Credit(ctx, op)
		} else {
			_, err = b.Debit(ctx, op)
		}
		var be *obx.BankError
		switch {
		case err == nil && step.credit:
			moved += step.amount
		case err == nil:
			moved -= step.amount
		case !errors.As(err, &be):
			t.Fatalf("operation %d = %v", i, err)
		}
		_, _ = b.Debit(ctx, op) // repeats change nothing (or conflict)
	}
	if after := total(); after != before+moved {
		t.Errorf("total balance = %d, want %d + %d", after, before, moved)
	}
	for _, acct := range []string{a.Number, c.Number, tsp.Number} {
		CheckChain(t, History(t, b, obx.TransactionQuery{AccountNum: acct, Ascending: true}), MustBalance(t, b, acct))
	}
}

func testDown(t *testing.T, b obx.Bank, set setFaults) {
	a := DemandAccount(t, b, 0)
	set(t, banksim.Faults{Down: true})
	_, err := b.Balance(t.Context(), a.Number)
	WantCode(t, err, obx.EUNAVAILABLE)
	if !errors.Is(err, obx.ErrBankDown) {
		t.Errorf("Balance() = %v, want ErrBankDown", err)
	}
	_, err = b.Debit(t.Context(), obx.Operation{ID: "op-down", AccountNum: a.Number, Amount: 1})
	if !errors.Is(err, obx.ErrBankDown) {
		t.Errorf("Debit() = %v, want ErrBankDown", err)
	}
	st, err := b.Status(t.Context())
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	if st.Up || st.Maintenance {
		t.Errorf("Status() = %+v, want down", st)
	}
	set(t, banksim.Faults{})
	_, err = b.Operation(t.Context(), "op-down")
	WantCode(t, err, obx.ENOTFOUND)
}

func testMaintenance(t *testing.T, b obx.Bank, set setFaults) {
	a := DemandAccount(t, b, 0)
	until := Epoch.Add(24 * time.Hour)
	set(t, banksim.Faults{Maintenance: true, MaintenanceUntil: until})
	_, err := b.Account(t.Context(), a.Number)
	WantCode(t, err, obx.EUNAVAILABLE)
	if !errors.Is(err, obx.ErrBankMaintenance) {
		t.Errorf("Account() = %v, want ErrBankMaintenance", err)
	}
	st, err := b.Status(t.Context())
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	if st.Up || !st.Maintenance || !st.MaintenanceUntil.Equal(until) {
		t.Errorf("Status() = %+v, want maintenance until %s", st, until)
	}

	// A window that has ended no longer refuses.
	set(t, banksim.Faults{Maintenance: true, MaintenanceUntil: Epoch.Add(-time.Hour)})
	if _, err := b.Account(t.Context(), a.Number); err != nil {
		t.Errorf("Account() after the window = %v", err)
	}
	if st, _ := b.Status(t.Context()); !st.Up {
		t.Errorf("Status() after the window = %+v, want up", st)
	}
}

func testErrorRate(t *testing.T, b obx.Bank, set setFaults) {
	a := DemandAccount(t, b, 0)
	set(t, banksim.Faults{ErrorRate: 0.5})
	failed := 0
	for range 100 {
		_, err := b.Balance(t.Context(), a.Number)
		switch obx.ErrorCode(err) {
		case "":
		case obx.EUNAVAILABLE:
			failed++
		default:
			t.Fatalf("Balance() = %v, want success or EUNAVAILABLE", err)
		}
	}
	if failed < 25 || failed > 75 {
		t.Errorf("%d of 100 calls failed at error rate 0.5", failed)
	}
}

func testTimeout(t *testing.T, b obx.Bank, set setFaults) {
	a := DemandAccount(t, b, 1)
	before := MustBalance(t, b, a.Number)
	set(t, banksim.Faults{TimeoutRate: 1})

	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.Balance(ctx, a.Number)
	WantCode(t, err, obx.ETIMEOUT)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("Balance() returned after %s, want it to block until the deadline", d)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	_, err = b.Debit(ctx, obx.Operation{ID: "op-timeout", AccountNum: a.Number, Amount: 1_000})
	WantCode(t, err, obx.ETIMEOUT)

	set(t, banksim.Faults{})
	_, err = b.Operation(t.Context(), "op-timeout")
	WantCode(t, err, obx.ENOTFOUND) // timed out before the bank applied it
	if bal := MustBalance(t, b, a.Number); bal != before {
		t.Errorf("balance = %d, want %d", bal, before)
	}
}

func testLostResponse(t *testing.T, b obx.Bank, set setFaults) {
	a := DemandAccount(t, b, 2)
	before := MustBalance(t, b, a.Number)
	set(t, banksim.Faults{LostResponseRate: 1})

	op := obx.Operation{ID: "op-lost", AccountNum: a.Number, Amount: 2_500}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	_, err := b.Debit(ctx, op)
	WantCode(t, err, obx.ETIMEOUT)

	set(t, banksim.Faults{})
	res, err := b.Operation(t.Context(), op.ID)
	if err != nil {
		t.Fatalf("Operation() = %v", err)
	}
	if res.Status != obx.OperationApplied || res.AfterBalance != before-op.Amount {
		t.Errorf("Operation() = %+v, want applied with after balance %d", res, before-op.Amount)
	}
	again, err := b.Debit(t.Context(), op)
	if err != nil {
		t.Fatalf("repeated Debit() = %v", err)
	}
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("repeated Debit() differs from Operation() (-operation +debit):\n%s", diff)
	}
	if bal := MustBalance(t, b, a.Number); bal != before-op.Amount {
		t.Errorf("balance = %d, want %d (applied once)", bal, before-op.Amount)
	}
}

func testLatency(t *testing.T, b obx.Bank, set setFaults) {
	a := DemandAccount(t, b, 3)
	set(t, banksim.Faults{Latency: 100 * time.Millisecond})
	start := time.Now()
	if _, err := b.Balance(t.Context(), a.Number); err != nil {
		t.Fatalf("Balance() = %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("Balance() took %s, want at least the latency", d)
	}

	set(t, banksim.Faults{Latency: 30 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := b.Balance(ctx, a.Number)
	WantCode(t, err, obx.ETIMEOUT)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Balance() took %s, want it to end with its context", d)
	}
	start = time.Now()
	if _, err := b.Status(t.Context()); err != nil {
		t.Errorf("Status() = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Status() took %s; it must not be delayed by faults", d)
	}
}

// AllAccounts returns every account of the contract bank, found through b: the
// demo customers' (by signing in) and the demo TSPs'.
func AllAccounts(t testing.TB, b obx.Bank) []obx.BankAccount {
	t.Helper()
	var as []obx.BankAccount
	for _, l := range banksim.DemoLogins(Code, Seed) {
		c, err := b.SignIn(t.Context(), l.Login, l.Password)
		if err != nil {
			t.Fatalf("SignIn(%s) = %v", l.Login, err)
		}
		as = append(as, c.Accounts...)
	}
	return append(as, banksim.DemoTSPAccounts(Code)...)
}

// DemandAccount returns the first open demand account of the i-th demo customer.
func DemandAccount(t testing.TB, b obx.Bank, i int) obx.BankAccount {
	t.Helper()
	l := banksim.DemoLogins(Code, Seed)[i]
	c, err := b.SignIn(t.Context(), l.Login, l.Password)
	if err != nil {
		t.Fatalf("SignIn(%s) = %v", l.Login, err)
	}
	for _, a := range c.Accounts {
		if a.Type == obx.AccountDemand && !a.Closed {
			return a
		}
	}
	t.Fatalf("%s has no open demand account", l.Login)
	return obx.BankAccount{}
}

// ClosedAccount returns a closed account of the contract bank.
func ClosedAccount(t testing.TB, b obx.Bank) obx.BankAccount {
	t.Helper()
	for _, a := range AllAccounts(t, b) {
		if a.Closed {
			return a
		}
	}
	t.Fatalf("bank %s has no closed account", Code)
	return obx.BankAccount{}
}

// LongestHistory returns the number of the account with the longest history.
func LongestHistory(t testing.TB, b obx.Bank) string {
	t.Helper()
	best, most := "", -1
	for _, a := range AllAccounts(t, b) {
		if n := len(History(t, b, obx.TransactionQuery{AccountNum: a.Number})); n > most {
			best, most = a.Number, n
		}
	}
	return best
}

// MustBalance returns an account's balance.
func MustBalance(t testing.TB, b obx.Bank, num string) int64 {
	t.Helper()
	bal, err := b.Balance(t.Context(), num)
	if err != nil {
		t.Fatalf("Balance() = %v", err)
	}
	return bal.Balance
}

// History walks every page of q and returns the rows in page order. It checks
// the paging contract on the way: full pages until the last, cursors of at
// most 20 characters, a stable balance, and an end.
func History(t testing.TB, b obx.Bank, q obx.TransactionQuery) []obx.Transaction {
	t.Helper()
	limit := q.Limit
	if limit <= 0 || limit > banksim.MaxPageSize {
		limit = banksim.MaxPageSize
	}
	var all []obx.Transaction
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatalf("Transactions(): paging does not end")
		}
		p, err := b.Transactions(t.Context(), q)
		if err != nil {
			t.Fatalf("Transactions(%+v) = %v", q, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("Transactions() returned %d items, limit %d", len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		if len(p.Items) != limit || len(p.NextCursor) > 20 {
			t.Fatalf("Transactions() page of %d items with cursor %q: want full pages before the last and a cursor of at most 20 characters", len(p.Items), p.NextCursor)
		}
		q.Cursor = p.NextCursor
	}
}

// CheckChain checks an ascending history: each row's after-balance follows
// from the one before, starting from zero, never negative, ending at balance.
func CheckChain(t testing.TB, h []obx.Transaction, balance int64) {
	t.Helper()
	var run int64
	for i, tr := range h {
		if tr.Amount <= 0 {
			t.Fatalf("row %d amount %d, want positive", i, tr.Amount)
		}
		if i > 0 && tr.At.Before(h[i-1].At) {
			t.Fatalf("row %d at %s is before row %d at %s", i, tr.At, i-1, h[i-1].At)
		}
		if tr.In {
			run += tr.Amount
		} else {
			run -= tr.Amount
		}
		if tr.AfterBalance != run || run < 0 {
			t.Fatalf("row %d after balance %d, want %d (non-negative)", i, tr.AfterBalance, run)
		}
	}
	if run != balance {
		t.Fatalf("history sums to %d, balance is %d", run, balance)
	}
}

// WantCode fails t unless err carries the obx error code.
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := obx.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// WantBankError fails t unless err is a refusal by the contract bank with rspCode.
func WantBankError(t testing.TB, err error, rspCode string) {
	t.Helper()
	var be *obx.BankError
	if !errors.As(err, &be) || be.RspCode != rspCode || be.BankCode != Code || be.Message == "" {
		t.Fatalf("error = %v, want a refusal by bank %s with code %s and a message", err, Code, rspCode)
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }
