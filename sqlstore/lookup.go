package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// maxLookupBatch bounds how many reads share one query.
const maxLookupBatch = 64

// lookup coalesces concurrent point reads of one kind (a token, an account,
// a contract) into one query on PostgreSQL, the way group commit coalesces
// writes: while one query is on the wire, the reads that arrive queue, and
// the next query answers all of them. Every API call makes a few such reads,
// and on a loaded hub each was a round trip costing more CPU in the
// protocol, on both sides, than in the lookup itself.
//
// The query reads its keys from arrays (args) unnested WITH ORDINALITY and
// returns one row per key found, its ordinal first, so that each caller gets
// a value of its own even when two callers ask for the same key. A read
// waits for at most the query in flight before its own; on an idle hub it is
// sent at once, alone.
type lookup[K, V any] struct {
	db    *DB
	query string
	args  func(keys []K) []any
	// scan reads one row into a new value, the row's ordinal into n.
	scan func(rows *sql.Rows, n *int) (V, error)
	g    *group[*lookupArg[K, V]]
}

type lookupArg[K, V any] struct {
	key   K
	val   V
	found bool
}

func newLookup[K, V any](db *DB, query string, args func([]K) []any, scan func(*sql.Rows, *int) (V, error)) *lookup[K, V] {
	l := &lookup[K, V]{db: db, query: query, args: args, scan: scan}
	l.g = newGroup(maxLookupBatch, l.run)
	l.g.reads = true
	return l
}

// get returns the value for key, or sql.ErrNoRows if there is none, as the
// single-row query it replaces would.
func (l *lookup[K, V]) get(ctx context.Context, key K) (V, error) {
	a := &lookupArg[K, V]{key: key}
	var zero V
	if err := l.g.do(ctx, a); err != nil {
		return zero, err // a may still be filled in: leave it
	}
	if !a.found {
		return zero, sql.ErrNoRows
	}
	return a.val, nil
}

func (l *lookup[K, V]) run(ctx context.Context, calls []*groupCall[*lookupArg[K, V]]) {
	keys := make([]K, len(calls))
	for i, c := range calls {
		keys[i] = c.arg.key
	}
	err := func() error {
		rows, err := l.db.q.QueryContext(ctx, l.query, l.args(keys)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int
			v, err := l.scan(rows, &n)
			if err != nil {
				return err
			}
			if n < 1 || n > len(calls) {
				return fmt.Errorf("lookup: row for key %d of %d", n, len(calls))
			}
			calls[n-1].arg.val, calls[n-1].arg.found = v, true
		}
		return rows.Err()
	}()
	for _, c := range calls {
		c.err = err
	}
}

func (l *lookup[K, V]) close() { l.g.close() }

// numbered scans a lookup's row: its ordinal into n, the rest into what
// Scan is given, so that a single-row scanner serves the batched query too.
type numbered struct {
	rows *sql.Rows
	n    *int
}

func (r numbered) Scan(dest ...any) error { return r.rows.Scan(append([]any{r.n}, dest...)...) }
