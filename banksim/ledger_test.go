package banksim

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
)

var testNow = time.Date(2025, 6, 16, 1, 0, 0, 0, time.UTC)

func openTestBank(t testing.TB, code string) *Bank {
	t.Helper()
	b, err := Open(context.Background(), Config{
		Code: code, DSN: filepath.Join(t.TempDir(), code+".db"), Seed: 5,
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("Open(%s) = %v", code, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestSeededLedger seeds every demo bank twice with the same seed and clock
// and checks in SQL that both ledgers are identical, that balances are the
// sums of their rows, that rows chain in (at, id) order and never go negative,
// and that the accounts look like the bank's.
func TestSeededLedger(t *testing.T) {
	t.Parallel()
	for _, db := range DemoBanks {
		t.Run(db.Code, func(t *testing.T) {
			t.Parallel()
			b := openTestBank(t, db.Code)
			ctx := t.Context()
			if diff := cmp.Diff(b.dump(t), openTestBank(t, db.Code).dump(t)); diff != "" {
				t.Errorf("two ledgers seeded alike differ (-first +second):\n%s", diff)
			}

			var bad int
			err := b.rdb.QueryRowContext(ctx, `
				SELECT count(*) FROM accounts a
				WHERE balance != (SELECT coalesce(sum(CASE inout WHEN 'I' THEN amount ELSE -amount END), 0)
				                  FROM transactions t WHERE t.account = a.number)`).Scan(&bad)
			if err != nil || bad != 0 {
				t.Errorf("%d accounts whose balance is not the sum of their rows (err %v)", bad, err)
			}
			err = b.rdb.QueryRowContext(ctx, `
				SELECT count(*) FROM (
					SELECT after_balance, amount, inout,
						coalesce(lag(after_balance) OVER (PARTITION BY account ORDER BY at, id), 0) AS prev
					FROM transactions)
				WHERE after_balance != prev + CASE inout WHEN 'I' THEN amount ELSE -amount END
				   OR after_balance < 0`).Scan(&bad)
			if err != nil || bad != 0 {
				t.Errorf("%d rows that break the after-balance chain (err %v)", bad, err)
			}

			perHolder := map[string]int{}
			for _, a := range b.allAccounts(t) {
				perHolder[a.HolderName]++
				if n := len(a.Number); n < 10 || n > 14 || !isDigits(a.Number, n) {
					t.Errorf("account number %q: want 10 to 14 digits", a.Number)
				}
				if len(a.BranchCode) != 7 || a.BranchCode[:3] != db.Code || a.ProductName == "" || a.Currency != "KRW" {
					t.Errorf("account %+v: incomplete", a)
				}
				if a.Type == obx.AccountSavings && !a.Closed && a.MaturesOn <= tranDay(testNow) {
					t.Errorf("savings account %s matures %q, want a future date", a.ProductName, a.MaturesOn)
				}
			}
			for _, c := range DemoCustomers(5) {
				n := perHolder[c.Name]
				if slices.Contains(c.Banks, db.Code) != (n > 0) || n > 3 {
					t.Errorf("%s holds %d accounts at %s (banks %v), want 1 to 3 where they bank", c.Name, n, db.Code, c.Banks)
				}
			}
			for _, tsp := range demoTSPs {
				if perHolder[tsp] != 1 {
					t.Errorf("TSP %s holds %d accounts, want 1", tsp, perHolder[tsp])
				}
			}
		})
	}
}

// dump returns every row of the ledger but the password hashes, which are
// salted, as text.
func (b *Bank) dump(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT ci, name, birth, gender, cell, email FROM customers ORDER BY ci`,
		`SELECT login, ci, '' FROM logins ORDER BY login`,
		`SELECT ` + accountColumns + ` FROM accounts ORDER BY number`,
		`SELECT id, account, at, inout, type, print_content, amount, after_balance, branch_name FROM transactions ORDER BY id`,
	} {
		rows, err := b.rdb.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

func (b *Bank) allAccounts(t testing.TB) []obx.BankAccount {
	rows, err := b.rdb.QueryContext(context.Background(), `SELECT `+accountColumns+` FROM accounts ORDER BY number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var as []obx.BankAccount
	for rows.Next() {
		a, _, err := b.scanAccount(rows)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, *a)
	}
	return as
}

// TestPagingMatchesSQL walks pages of seeded accounts of every kind and
// compares them with one full query in SQL, without keysets or cursors.
func TestPagingMatchesSQL(t *testing.T) {
	t.Parallel()
	b := openTestBank(t, "088")
	kinds := map[string]bool{}
	for _, a := range b.allAccounts(t) {
		kind := a.Type + a.HolderType + fmt.Sprint(a.Closed)
		if kinds[kind] {
			continue // one account of each kind is enough
		}
		kinds[kind] = true
		for _, asc := range []bool{true, false} {
			for _, dir := range []string{obx.DirectionAll, obx.DirectionIn, obx.DirectionOut} {
				name := fmt.Sprintf("%s/asc=%v/%s", obx.MaskAccountNum(a.Number), asc, dir)
				from := testNow.AddDate(0, -3, 0)
				q := obx.TransactionQuery{AccountNum: a.Number, Ascending: asc, Direction: dir, From: from, To: testNow, Limit: 10}
				var got []obx.Transaction
				for {
					p, err := b.Transactions(t.Context(), q)
					if err != nil {
						t.Fatalf("%s: Transactions() = %v", name, err)
					}
					got = append(got, p.Items...)
					if p.NextCursor == "" {
						break
					}
					q.Cursor = p.NextCursor
				}
				if diff := cmp.Diff(b.fullQuery(t, a.Number, asc, dir, from.UnixMicro()), got); diff != "" {
					t.Errorf("%s: pages differ from the full query (-want +got):\n%s", name, diff)
				}
			}
		}
	}
}

func (b *Bank) fullQuery(t testing.TB, acct string, asc bool, dir string, from int64) []obx.Transaction {
	order := "DESC"
	if asc {
		order = "ASC"
	}
	rows, err := b.rdb.QueryContext(context.Background(), `
		SELECT at, inout, type, print_content, amount, after_balance, branch_name FROM transactions
		WHERE account = ? AND at >= ? AND (? = 'A' OR inout = ?) ORDER BY at `+order+`, id `+order,
		acct, from, dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []obx.Transaction
	for rows.Next() {
		var (
			tr    obx.Transaction
			at    int64
			inout string
		)
		if err := rows.Scan(&at, &inout, &tr.Type, &tr.PrintContent, &tr.Amount, &tr.AfterBalance, &tr.BranchName); err != nil {
			t.Fatal(err)
		}
		tr.At, tr.In = time.UnixMicro(at).UTC(), inout == "I"
		out = append(out, tr)
	}
	return out
}

// TestPageQueryUsesIndex guards the keyset plan: the page query must search
// the (account, at, id) index, not scan and sort.
func TestPageQueryUsesIndex(t *testing.T) {
	b := openTestBank(t, "999")
	for _, asc := range []bool{true, false} {
		rows, err := b.rdb.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+pageQuery(asc), "x", 0, 0, math.MaxInt64, 0, "A", 26)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		// One index search on the account and the at range, and no sort step.
		const want = "SEARCH transactions USING INDEX transactions_account_at_id (account=? AND at>? AND at<?)"
		if len(plan) != 1 || plan[0] != want {
			t.Errorf("plan (asc=%v) = %q, want [%q]", asc, plan, want)
		}
	}
}

func TestCursor(t *testing.T) {
	for _, k := range []key{{0, 1}, {1, 1}, {testNow.UnixMicro(), 123456}, {36*36*36*36*36*36*36*36*36*36*36 - 1, 36*36*36*36*36*36*36*36*36 - 1}} {
		c := encodeCursor(k)
		if len(c) > maxCursorLen {
			t.Errorf("encodeCursor(%v) = %q, longer than %d", k, c, maxCursorLen)
		}
		got, err := decodeCursor(c)
		if err != nil || got != k {
			t.Errorf("decodeCursor(%q) = %v, %v; want %v", c, got, err, k)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(key{testNow.UnixMicro(), 42}))
	f.Add("")
	f.Add("zzzzzzzzzzzzzzzzzzzz")
	f.Add("0000000000-1")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeCursor(s)
		if err != nil {
			if obx.ErrorCode(err) != obx.EINVALID {
				t.Fatalf("decodeCursor(%q) = %v, want EINVALID", s, err)
			}
			return
		}
		again, err := decodeCursor(encodeCursor(k))
		if err != nil || again != k || len(encodeCursor(k)) > maxCursorLen {
			t.Fatalf("cursor %q → %v does not round-trip: %v, %v", s, k, again, err)
		}
	})
}
