package banksim

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
)

// TestGroupCommit sends many operations at once, so that they share commits,
// and mixes in operations that fail inside a group: debits beyond the balance
// (refused and recorded), reused ids with another instruction (ECONFLICT, no
// trace) and unknown accounts. Each must get its own outcome, and the ledger
// must hold exactly the applied ones.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	b := openTestBank(t, "097")
	ctx := t.Context()
	acct := newDemandAccount(t, b, 1000)
	var opening int // the account's rows before any operation: its opening deposit
	if err := b.rdb.QueryRowContext(ctx, `SELECT count(*) FROM transactions WHERE account = ?`, acct).Scan(&opening); err != nil {
		t.Fatal(err)
	}

	const n = 200 // 100 debits of 30 won from 1,000: 33 fit
	var (
		wg                                   sync.WaitGroup
		mu                                   sync.Mutex
		applied, refused, conflicts, unknown int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 4 {
			case 0, 1:
				_, err = b.Debit(ctx, obx.Operation{ID: fmt.Sprintf("d%d", i), AccountNum: acct, Amount: 30})
			case 2: // reuses a debit's id for a credit
				_, err = b.Credit(ctx, obx.Operation{ID: fmt.Sprintf("d%d", i-2), AccountNum: acct, Amount: 30})
			case 3:
				_, err = b.Credit(ctx, obx.Operation{ID: fmt.Sprintf("u%d", i), AccountNum: "99999999", Amount: 30})
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case i%4 == 3:
				if be, ok := err.(*obx.BankError); ok && be.RspCode == obx.BankRspNoAccount {
					unknown++
				} else {
					t.Errorf("credit to an unknown account = %v, want 412", err)
				}
			case err == nil:
				applied++
			case obx.ErrorCode(err) == obx.ECONFLICT:
				conflicts++
			default:
				if be, ok := err.(*obx.BankError); ok && be.RspCode == obx.BankRspInsufficientBalance {
					refused++
				} else {
					t.Errorf("operation %d = %v", i, err)
				}
			}
		}()
	}
	wg.Wait()

	// A reused id either conflicts (the debit came first) or is the
	// credit itself (it came first, and then the debit conflicts).
	if applied+refused+conflicts != n/2+n/4 || unknown != n/4 {
		t.Fatalf("applied %d, refused %d, conflicts %d, unknown %d", applied, refused, conflicts, unknown)
	}
	if c := b.groupCommits.Load(); c >= n {
		t.Errorf("%d operations took %d commits: none were grouped", n, c)
	}
	bal, err := b.Balance(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	var debited, credited int64
	for i := 0; i < n; i += 4 {
		for _, id := range []string{fmt.Sprintf("d%d", i), fmt.Sprintf("d%d", i+1)} {
			res, err := b.Operation(ctx, id)
			if err != nil {
				t.Fatalf("Operation(%s) = %v", id, err)
			}
			if res.Status != obx.OperationApplied {
				continue
			}
			rec, _, err := b.opKind(t, id)
			if err != nil {
				t.Fatal(err)
			}
			if rec == kindDebit {
				debited += 30
			} else {
				credited += 30
			}
		}
	}
	if want := 1000 - debited + credited; bal.Balance != want || bal.Balance < 0 {
		t.Errorf("balance %d, want %d (debited %d, credited %d)", bal.Balance, want, debited, credited)
	}
	var rows int64
	if err := b.rdb.QueryRowContext(ctx, `SELECT coalesce(sum(CASE inout WHEN 'I' THEN amount ELSE -amount END), 0)
		FROM transactions WHERE account = ?`, acct).Scan(&rows); err != nil || rows != bal.Balance {
		t.Errorf("ledger rows sum to %d, balance %d (err %v)", rows, bal.Balance, err)
	}
	// Each applied operation names its own transactions row (the ids are
	// given when the group's rows are written), and no row is left unnamed.
	var mismatched, unnamed int
	if err := b.rdb.QueryRowContext(ctx, `SELECT count(*) FROM operations o
		LEFT JOIN transactions t ON t.id = o.transaction_id
		WHERE o.status = 'applied' AND (t.id IS NULL OR t.account != o.account OR t.amount != o.amount
			OR t.after_balance != o.after_balance OR t.inout != CASE o.kind WHEN 'debit' THEN 'O' ELSE 'I' END)`).Scan(&mismatched); err != nil {
		t.Fatal(err)
	}
	if err := b.rdb.QueryRowContext(ctx, `SELECT count(*) FROM transactions t WHERE t.account = ?
		AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.transaction_id = t.id)`, acct).Scan(&unnamed); err != nil {
		t.Fatal(err)
	}
	if mismatched != 0 || unnamed != opening {
		t.Errorf("%d applied operations name a wrong transactions row, %d rows are named by none (want %d, the opening's)",
			mismatched, unnamed, opening)
	}
}

// newDemandAccount opens a demand account at b holding balance won and
// returns its number.
func newDemandAccount(t *testing.T, b *Bank, balance int64) string {
	t.Helper()
	accts, err := b.AddDemandAccounts(t.Context(), 1, balance)
	if err != nil || len(accts) == 0 {
		t.Fatalf("AddDemandAccounts = %v, %v", accts, err)
	}
	return accts[0].Number
}

// opKind returns the recorded kind of operation id.
func (b *Bank) opKind(t *testing.T, id string) (kind string, found bool, err error) {
	t.Helper()
	err = b.rdb.QueryRowContext(t.Context(), `SELECT kind FROM operations WHERE id = ?`, id).Scan(&kind)
	return kind, err == nil, err
}

// TestCommitDelay: operations arriving one after another at a bank on disk
// wait for each other and share commits, four to a commit; in memory, or
// with the delay turned off, nothing waits.
func TestCommitDelay(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	open := func(dsn string, delay time.Duration) *Bank {
		b, err := Open(ctx, Config{Code: "097", DSN: dsn, Seed: 5, Now: func() time.Time { return testNow }, CommitDelay: delay})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	// run sends n credits a few milliseconds apart, waits for all of them,
	// and returns how many commits they took.
	run := func(b *Bank, n int) (commits int64) {
		t.Helper()
		accts, err := b.AddDemandAccounts(ctx, 1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		before := b.groupCommits.Load()
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := b.Credit(ctx, obx.Operation{ID: fmt.Sprintf("c%d", i), AccountNum: accts[0].Number, Amount: 1}); err != nil {
					t.Errorf("credit %d: %v", i, err)
				}
			}()
			time.Sleep(5 * time.Millisecond)
		}
		wg.Wait()
		return b.groupCommits.Load() - before
	}

	// A long delay: each group waits until it has four operations.
	if got := run(open(filepath.Join(t.TempDir(), "delay.db"), 10*time.Second), 8); got != 2 {
		t.Errorf("8 credits took %d commits, want 2 of 4", got)
	}

	for name, b := range map[string]*Bank{
		"in memory":  open(":memory:", 0),
		"turned off": open(filepath.Join(t.TempDir(), "off.db"), -1),
	} {
		run(b, 4)
		if d := b.delayedGroups.Load(); d != 0 {
			t.Errorf("%s: %d groups waited for more operations, want none", name, d)
		}
	}
	if d := open(filepath.Join(t.TempDir(), "default.db"), 0).commitDelay; d != DefaultCommitDelay {
		t.Errorf("a bank on disk waits %v by default, want %v", d, DefaultCommitDelay)
	}
}

// TestGroupRepeats sends the same operations many times at once, as a hub
// retrying after lost answers does, so that repeats share a commit with the
// first send: a shared commit takes every operation to be new, and a repeat
// must instead get the first outcome and move no money again.
func TestGroupRepeats(t *testing.T) {
	t.Parallel()
	b := openTestBank(t, "097")
	ctx := t.Context()
	acct := newDemandAccount(t, b, 1000)

	const ops, sends = 10, 8 // each debit of 7 won sent 8 times
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		after  = map[string]map[int64]int{}
		failed int
	)
	for i := range ops * sends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("r%d", i%ops)
			res, err := b.Debit(ctx, obx.Operation{ID: id, AccountNum: acct, Amount: 7})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Debit(%s) = %v", id, err)
				failed++
				return
			}
			if after[id] == nil {
				after[id] = map[int64]int{}
			}
			after[id][res.AfterBalance]++
		}()
	}
	wg.Wait()
	if failed > 0 {
		return
	}
	for id, balances := range after {
		if len(balances) != 1 {
			t.Errorf("%s answered %d different after-balances: %v", id, len(balances), balances)
		}
	}
	bal, err := b.Balance(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(1000 - ops*7); bal.Balance != want {
		t.Errorf("balance %d, want %d: a repeat moved money again", bal.Balance, want)
	}
	var rows int
	if err := b.rdb.QueryRowContext(ctx, `SELECT count(*) FROM transactions WHERE account = ? AND inout = 'O'`, acct).Scan(&rows); err != nil || rows != ops {
		t.Errorf("%d debit rows (err %v), want %d", rows, err, ops)
	}
}
