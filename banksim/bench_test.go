package banksim

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/cputime"
)

const benchAccount = "99912345678901"

// benchBank opens a bank (code 999: no demo customers) with one account whose
// history has n rows, one a minute ending at testNow, alternating in and out.
func benchBank(b *testing.B, n int) *Bank {
	b.Helper()
	bk, err := Open(context.Background(), Config{
		Code: "999", DSN: filepath.Join(b.TempDir(), "bank.db"),
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bk.Close() })

	start := time.Now()
	ctx := context.Background()
	err = bk.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO accounts (`+accountColumns+`)
			VALUES (?, '9990001', '', '벤치마크', 'P', '1', '보통예금', 'KRW', '20200101', '', 0, 0)`, benchAccount)
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `
			INSERT INTO transactions (account, at, inout, type, print_content, amount, after_balance, branch_name)
			VALUES (?, ?, ?, '체크카드', '스타벅스', ?, ?, '카드승인')`)
		if err != nil {
			return err
		}
		defer ins.Close()
		at := testNow.Add(-time.Duration(n) * time.Minute).UnixMicro()
		var balance int64
		for i := range n {
			inout, amount := "I", int64(10_000)
			if i%2 == 1 {
				inout, amount = "O", 4_500
			}
			if inout == "I" {
				balance += amount
			} else {
				balance -= amount
			}
			if _, err := ins.ExecContext(ctx, benchAccount, at, inout, amount, balance); err != nil {
				return err
			}
			at += int64(time.Minute / time.Microsecond)
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET balance = ? WHERE number = ?`, balance, benchAccount)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d rows in %s", n, time.Since(start).Round(time.Millisecond))
	return bk
}

// BenchmarkTransactions pages through one account with a million rows. Deep
// pages must cost what the first page costs: the keyset seeks the index.
func BenchmarkTransactions(b *testing.B) {
	const rows = 1_000_000
	bk := benchBank(b, rows)
	ctx := context.Background()
	// Cursors spread over the whole history, to page from anywhere.
	var cursors []string
	step := time.Duration(rows/100) * time.Minute
	for at := testNow.Add(-time.Duration(rows)*time.Minute + step); at.Before(testNow); at = at.Add(step) {
		cursors = append(cursors, encodeCursor(key{at.UnixMicro(), 1}))
	}

	for _, bc := range []struct {
		name string
		q    func(i int) obx.TransactionQuery
	}{
		{"FirstPage", func(int) obx.TransactionQuery { return obx.TransactionQuery{AccountNum: benchAccount} }},
		{"DeepDesc", func(i int) obx.TransactionQuery {
			return obx.TransactionQuery{AccountNum: benchAccount, Cursor: cursors[i%len(cursors)]}
		}},
		{"DeepAscOut", func(i int) obx.TransactionQuery {
			return obx.TransactionQuery{AccountNum: benchAccount, Ascending: true, Direction: obx.DirectionOut, Cursor: cursors[i%len(cursors)]}
		}},
		{"DateRangeMiddle", func(int) obx.TransactionQuery {
			mid := testNow.Add(-time.Duration(rows/2) * time.Minute)
			return obx.TransactionQuery{AccountNum: benchAccount, From: mid, To: mid.Add(24 * time.Hour), Ascending: true}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				p, err := bk.Transactions(ctx, bc.q(i))
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Items) != MaxPageSize || p.NextCursor == "" {
					b.Fatalf("page of %d items, cursor %q", len(p.Items), p.NextCursor)
				}
				i++
			}
		})
	}
	b.Run("WalkDeep", func(b *testing.B) {
		// Forty consecutive pages from the middle of the history.
		for b.Loop() {
			q := obx.TransactionQuery{AccountNum: benchAccount, Cursor: cursors[len(cursors)/2]}
			for range 40 {
				p, err := bk.Transactions(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				q.Cursor = p.NextCursor
			}
		}
	})
}

func BenchmarkBalance(b *testing.B) {
	bk := benchBank(b, 100_000)
	ctx := context.Background()
	for b.Loop() {
		if _, err := bk.Balance(ctx, benchAccount); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDebit(b *testing.B) {
	bk := benchBank(b, 1_000)
	ctx := context.Background()
	if _, err := bk.Credit(ctx, obx.Operation{ID: "fund", AccountNum: benchAccount, Amount: MaxAmount}); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := bk.Debit(ctx, obx.Operation{ID: "bench-" + encodeCursor(key{0, int64(i)}), AccountNum: benchAccount, Amount: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDebitConcurrent sends debits from 32 goroutines, as a busy hub
// does, so that they share ledger commits: ns/op is the cost of one operation
// inside a group, which is what the hub's withdrawal path pays. Each debit
// has a deadline, as the hub's bank calls do.
func BenchmarkDebitConcurrent(b *testing.B) {
	bk := benchBank(b, 1_000)
	ctx := context.Background()
	if _, err := bk.Credit(ctx, obx.Operation{ID: "fund", AccountNum: benchAccount, Amount: MaxAmount}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(16)
	cpu0 := cputime.Self()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "bench-" + encodeCursor(key{0, n.Add(1)})
			opCtx, cancel := context.WithTimeout(ctx, time.Minute)
			_, err := bk.Debit(opCtx, obx.Operation{ID: id, AccountNum: benchAccount, Amount: 1})
			cancel()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cputime.Self()-cpu0)/float64(max(n.Load(), 1)), "cpu-ns/op")
	b.ReportMetric(float64(n.Load())/float64(max(bk.groupCommits.Load(), 1)), "ops/commit")
}
