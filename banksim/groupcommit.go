package banksim

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// maxGroup bounds how many operations share one ledger commit.
const maxGroup = 64

// groupWrite is one operation waiting for the ledger's next commit.
type groupWrite struct {
	ctx  context.Context // the caller's, without its cancellation
	fn   func(ctx context.Context, tx *groupTx) error
	done chan error
}

// groupTx is the transaction a group's operations run in. Each operation's
// ledger rows (its transactions row and its operations row) are held in it
// and written for the whole group at once, just before the commit, in one
// multi-row INSERT per table: statements, not rows, were most of what an
// operation cost the bank (each one a pass through database/sql and the
// driver's binding and reset), and a group of n operations then runs n+3
// statements instead of 3n.
type groupTx struct {
	querier
	// alone is set when the transaction holds one operation, after its group
	// failed or when it came alone; see commitGroup.
	alone bool
	rows  []*ledgerRow
}

// ledgerRow is what one operation appends to the ledger: always its
// operations row, and a transactions row when it moved money.
type ledgerRow struct {
	rec     *opRecord
	created int64 // unix microseconds: the operation's and its transaction's time
	moved   *movedRow
}

// movedRow is the transactions row of an applied operation.
type movedRow struct {
	inout, print string
}

// add holds rec's rows for the group's flush.
func (g *groupTx) add(r *ledgerRow) { g.rows = append(g.rows, r) }

// writeGrouped runs fn like write, but in a transaction it may share with
// other operations: the ledger's committer takes every operation waiting when
// the previous commit ends and commits them together (see commitGroup for
// what happens when one of them fails; alone tells fn which kind of run it
// is in, so that it can leave to the rerun what it expects to fail). One
// fsync then covers many operations, and a busy bank's throughput grows with
// its load instead of being one commit per operation, while each caller still
// returns only after its operation is durable.
//
// fn gets ctx without its cancellation: one caller giving up must not
// interrupt a statement of a transaction it shares with others, and a
// context that cannot end spares the SQL layers a watcher goroutine per
// statement (two per query: database/sql's and the SQLite driver's), which
// was about a tenth of a bank operation's cost.
//
// A caller whose ctx ends before the commit returns ETIMEOUT, and its
// operation may still be applied: the same ambiguity as a lost answer, which
// the hub settles by asking for the operation by id.
func (b *Bank) writeGrouped(ctx context.Context, fn func(ctx context.Context, tx *groupTx) error) error {
	w := &groupWrite{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan error, 1)}
	select {
	case b.writes <- w:
	case <-ctx.Done():
		return b.dbError(ctx, "queue", ctx.Err())
	case <-b.closed:
		return b.dbError(ctx, "queue", errClosed)
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return b.dbError(ctx, "commit", ctx.Err())
	}
}

// smallGroup is the size below which the committer waits for more
// operations before it commits.
const smallGroup = 4

// commitLoop is the ledger's committer; it runs until the bank closes.
//
// Every commit costs an fsync, and on a machine where the hub's PostgreSQL
// shares the disk, flushes queue behind each other: the fewer there are, the
// faster each one, the hub's included. A lightly loaded bank's groups hold
// one or two operations, each paying a flush of its own, so the committer
// waits up to commitDelay for more before it commits a group smaller than
// smallGroup (and no longer once it has grown to that), as PostgreSQL's
// commit_delay waits before a WAL flush. Nothing the bank sees tells it
// whether another operation is coming (the hub's transfers arrive
// independently of each other; waiting only after a busy spell measured
// worse than always waiting), so an operation at an idle bank waits the
// delay in full: a millisecond, against the several its flush takes under
// load.
func (b *Bank) commitLoop() {
	defer close(b.committerDone)
	group := make([]*groupWrite, 0, maxGroup)
	for {
		group = group[:0]
		select {
		case w := <-b.writes:
			group = append(group, w)
		case <-b.closed:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case w := <-b.writes:
				group = append(group, w)
			default:
				break more
			}
		}
		if len(group) < smallGroup && b.commitDelay > 0 {
			group = b.gather(group)
		}
		b.commitGroup(group)
	}
}

// gather adds to group the operations that arrive within commitDelay, until
// the group is no longer small.
func (b *Bank) gather(group []*groupWrite) []*groupWrite {
	b.delayedGroups.Add(1)
	timer := time.NewTimer(b.commitDelay)
	defer timer.Stop()
	for len(group) < smallGroup {
		select {
		case w := <-b.writes:
			group = append(group, w)
		case <-timer.C:
			return group
		case <-b.closed:
			return group
		}
	}
	return group
}

// commitGroup runs group's operations in one transaction and tells each
// caller its own outcome. An operation that fails may already have written
// part of its work, so a group in which one fails is rolled back as a whole
// and its operations run again one transaction each: the others then commit,
// and the failing one fails alone. Operations fail only on a malformed or
// conflicting instruction or a ledger error, both rare, so the common group
// pays no savepoint per operation.
//
// An operation in a shared transaction is run with alone false, and in a
// transaction of its own with alone true.
func (b *Bank) commitGroup(group []*groupWrite) {
	if len(group) > 1 {
		failed, err := b.commitTogether(group, false)
		if !failed {
			for _, w := range group {
				w.done <- b.dbErrorOrNil(w.ctx, "commit", err)
			}
			return
		}
	}
	for _, w := range group {
		failed, err := b.commitTogether([]*groupWrite{w}, true)
		op := "commit"
		if failed {
			op = "write"
		}
		w.done <- b.dbErrorOrNil(w.ctx, op, err)
	}
}

// commitTogether runs group's operations in one transaction and commits it.
// failed reports that an operation returned err, and the transaction was
// rolled back; otherwise err is the transaction's own.
func (b *Bank) commitTogether(group []*groupWrite, alone bool) (failed bool, err error) {
	tx, err := b.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	g := &groupTx{querier: b.prepared(tx), alone: alone, rows: make([]*ledgerRow, 0, len(group))}
	for _, w := range group {
		if err := w.fn(w.ctx, g); err != nil {
			return true, err
		}
	}
	// A repeated operation id inside the group fails here, on the operations
	// table's primary key, and the group is rerun one operation at a time.
	if err := b.flush(context.Background(), tx, g.rows); err != nil {
		return true, err
	}
	b.groupCommits.Add(1)
	return false, tx.Commit()
}

// flush writes rows to the ledger in tx: the transactions rows first, with
// ids given here (the next after the table's largest, as SQLite would give
// them; the writer is the only one, inside BEGIN IMMEDIATE) so that the
// operations rows can refer to them, then the operations rows.
func (b *Bank) flush(ctx context.Context, tx *sql.Tx, rows []*ledgerRow) error {
	if len(rows) == 0 {
		return nil
	}
	var moved []*ledgerRow
	for _, r := range rows {
		if r.moved != nil {
			moved = append(moved, r)
		}
	}
	if len(moved) > 0 {
		var last int64
		if err := tx.StmtContext(ctx, b.lastTransaction).QueryRowContext(ctx).Scan(&last); err != nil {
			return fmt.Errorf("last transaction: %w", err)
		}
		args := make([]any, 0, len(moved)*insertTransactionArgs)
		for i, r := range moved {
			id := last + int64(i) + 1
			r.rec.transactionID = sql.NullInt64{Int64: id, Valid: true}
			args = append(args, id, r.rec.account, r.created, r.moved.inout, "오픈뱅킹", r.moved.print,
				r.rec.amount, r.rec.afterBalance, "전자금융")
		}
		if _, err := tx.StmtContext(ctx, b.insertTransactions[len(moved)-1]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert transactions: %w", err)
		}
	}
	args := make([]any, 0, len(rows)*insertOperationArgs)
	for _, r := range rows {
		rec := r.rec
		args = append(args, rec.id, rec.kind, rec.account, rec.amount, rec.status, rec.rspCode, rec.message,
			rec.afterBalance, rec.holderName, rec.bankTranDay, rec.transactionID, r.created)
	}
	if _, err := tx.StmtContext(ctx, b.insertOperations[len(rows)-1]).ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("insert operations: %w", err)
	}
	return nil
}

// dbErrorOrNil is dbError, or nil when err is nil.
func (b *Bank) dbErrorOrNil(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	return b.dbError(ctx, op, err)
}
