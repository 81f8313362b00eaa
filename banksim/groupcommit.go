package banksim

import (
	"context"
	"database/sql"
	"fmt"
)

// maxGroup bounds how many operations share one ledger commit.
const maxGroup = 64

// groupWrite is one operation waiting for the ledger's next commit.
type groupWrite struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error
}

// writeGrouped runs fn like write, but in a transaction it may share with
// other operations: the ledger's committer takes every operation waiting when
// the previous commit ends and commits them together, each inside its own
// savepoint so that one operation's failure undoes only its own writes. One
// fsync then covers many operations, and a busy bank's throughput grows with
// its load instead of being one commit per operation, while each caller still
// returns only after its operation is durable.
//
// A caller whose ctx ends before the commit returns ETIMEOUT, and its
// operation may still be applied: the same ambiguity as a lost answer, which
// the hub settles by asking for the operation by id.
func (b *Bank) writeGrouped(ctx context.Context, fn func(*sql.Tx) error) error {
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

// commitLoop is the ledger's committer; it runs until the bank closes.
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
		b.commitGroup(group)
	}
}

// commitGroup runs group's operations in one transaction and tells each
// caller its own outcome.
func (b *Bank) commitGroup(group []*groupWrite) {
	errs := make([]error, len(group))
	ctx := context.Background()
	err := func() error {
		tx, err := b.wdb.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		ptx := b.prepared(tx)
		for i, w := range group {
			if len(group) == 1 {
				errs[i] = w.fn(tx)
				if errs[i] != nil {
					return errs[i]
				}
				break
			}
			if _, err := ptx.ExecContext(ctx, sqlSavepoint); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if errs[i] = w.fn(tx); errs[i] != nil {
				if _, err := ptx.ExecContext(ctx, sqlRollbackTo); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := ptx.ExecContext(ctx, sqlRelease); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		b.groupCommits.Add(1)
		return tx.Commit()
	}()
	for i, w := range group {
		switch {
		case errs[i] != nil:
			w.done <- b.dbError(w.ctx, "write", errs[i])
		case err != nil:
			w.done <- b.dbError(w.ctx, "commit", err)
		default:
			w.done <- nil
		}
	}
}
