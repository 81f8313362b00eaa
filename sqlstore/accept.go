package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/obxhub/obx"
)

// maxAcceptBatch bounds how many AcceptTransfer calls share a transaction.
const maxAcceptBatch = 64

// acceptArg is one AcceptTransfer call and its outcome.
type acceptArg struct {
	t          *obx.Transfer
	lim        obx.LimitUse
	owner      string
	leaseUntil time.Time
	prior      *obx.Transfer // out: the earlier transfer with t's request key
	used       obx.Usage     // out: the limits' use counting t, when t is recorded
}

// setUsed records that limit row k stands at used after a's transfer.
func (a *acceptArg) setUsed(k limitKey, used int64) {
	switch {
	case k.kind == limitDeposit:
		a.used.TSPDeposited = used
	case k.seq == "":
		a.used.TSPWithdrawn = used
	default:
		a.used.UserWithdrawn = used
	}
}

// tranKey is what makes a transfer request unique: bank_tran_id per TSP per
// day.
type tranKey struct {
	tsp     int64
	day, id string
}

func keyOf(t *obx.Transfer) tranKey { return tranKey{t.TSPID, t.TranDay, t.BankTranID} }

// runAccepts accepts a batch. Calls repeating a request key already in the
// batch (a client retrying before its first attempt was answered) go to a
// later round, where they find the first as their prior.
func (db *DB) runAccepts(ctx context.Context, calls []*groupCall[*acceptArg]) {
	for len(calls) > 0 {
		seen := make(map[tranKey]bool, len(calls))
		var now, later []*groupCall[*acceptArg]
		for _, c := range calls {
			k := keyOf(c.arg.t)
			if seen[k] {
				later = append(later, c)
				continue
			}
			seen[k] = true
			now = append(now, c)
		}
		db.acceptBatch(ctx, now)
		calls = later
	}
}

// acceptBatch accepts calls in one transaction. If the transaction fails as
// a whole, each call is retried alone, so that one request whose write fails
// cannot fail the others.
func (db *DB) acceptBatch(ctx context.Context, calls []*groupCall[*acceptArg]) {
	now := db.Now().UTC()
	for _, c := range calls {
		c.arg.t.CreatedAt, c.arg.t.UpdatedAt = now, now
	}
	for _, c := range calls {
		c.arg.prior, c.arg.used = nil, obx.Usage{}
	}
	if outcomes, ok := db.acceptAtOnce(ctx, calls); ok {
		for i, c := range calls {
			c.err = outcomes[i]
		}
		return
	}
	run := db.acceptSQLite
	if db.engine == Postgres {
		run = db.acceptPostgres
	}
	var outcomes []error
	err := db.transact(ctx, func(tx *sql.Tx) (err error) {
		for _, c := range calls {
			c.arg.prior, c.arg.used = nil, obx.Usage{}
		}
		outcomes, err = run(ctx, tx, calls)
		return err
	})
	if err != nil && len(calls) > 1 && ctx.Err() == nil {
		for _, c := range calls {
			a := c.arg
			c.err = db.transact(ctx, func(tx *sql.Tx) error { return db.acceptOne(ctx, tx, a) })
		}
		return
	}
	for i, c := range calls {
		if err != nil {
			c.err, c.arg.prior, c.arg.used = err, nil, obx.Usage{}
			continue
		}
		c.err = outcomes[i]
	}
}

// acceptSQLite runs acceptOne for each call inside a savepoint, so that a
// refused call leaves no write behind. SQLite runs in process: statements
// cost no round trip, and one commit is what batching saves.
func (db *DB) acceptSQLite(ctx context.Context, tx *sql.Tx, calls []*groupCall[*acceptArg]) ([]error, error) {
	outcomes := make([]error, len(calls))
	for i, c := range calls {
		a := c.arg
		if _, err := tx.ExecContext(ctx, `SAVEPOINT accept`); err != nil {
			return nil, err
		}
		outcomes[i] = db.acceptOne(ctx, tx, a)
		if outcomes[i] != nil {
			if e := (*obx.Error)(nil); !errors.As(outcomes[i], &e) {
				return nil, outcomes[i] // not a refusal: the batch fails
			}
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO accept`); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE accept`); err != nil {
			return nil, err
		}
	}
	return outcomes, nil
}

// findPriors sets, for each call whose transfer was not inserted, the
// earlier transfer with its request key, and its outcome: nil for a retry,
// ErrDuplicateTranID for another request. A retryError if some earlier
// transfer is gone (its transaction rolled back after blocking the insert).
func findPriors(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, calls []*groupCall[*acceptArg], inserted map[string]bool, outcomes []error) error {
	var tsps []int64
	var days, ids []string
	for _, c := range calls {
		if !inserted[c.arg.t.ID] {
			tsps, days, ids = append(tsps, c.arg.t.TSPID), append(days, c.arg.t.TranDay), append(ids, c.arg.t.BankTranID)
		}
	}
	priors := map[tranKey]*obx.Transfer{}
	rs, err := q.QueryContext(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE (tsp_id, tran_day, bank_tran_id) IN (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]))`,
		tsps, days, ids)
	if err != nil {
		return fmt.Errorf("find transfers: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		p, err := scanTransfer(rs)
		if err != nil {
			return fmt.Errorf("find transfers: %w", err)
		}
		priors[keyOf(p)] = p
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("find transfers: %w", err)
	}
	for i, c := range calls {
		if inserted[c.arg.t.ID] {
			continue
		}
		p := priors[keyOf(c.arg.t)]
		switch {
		case p == nil:
			return &retryError{fmt.Errorf("transfer %s neither inserted nor found", c.arg.t.ID)}
		case p.RequestHash != c.arg.t.RequestHash:
			outcomes[i] = errDuplicate()
		}
		c.arg.prior = p
	}
	return nil
}

// acceptAtOnce accepts calls on PostgreSQL in one statement committed on its
// own: one round trip, and the TSP's limit row locked only for that
// statement's commit. It handles the common case, where every new transfer
// fits its limits: the statement inserts the transfers (skipping request keys
// that exist), adds the inserted amounts to their limit rows, and divides by
// zero if any row went over its limit, so that it fails as a whole. Declined
// batches (ok false, nothing written) take the transaction path, which
// decides transfer by transfer.
func (db *DB) acceptAtOnce(ctx context.Context, calls []*groupCall[*acceptArg]) (outcomes []error, ok bool) {
	if db.engine != Postgres {
		return nil, false
	}
	rows := make([][]any, len(calls))
	var (
		lid, lday, lkind, lseq []string
		ltsp, llim, lamount    []int64
	)
	for i, c := range calls {
		rows[i] = db.transferRow(c.arg.t, c.arg.owner, c.arg.leaseUntil)
		for _, lc := range limitChecks(c.arg.t, c.arg.lim) {
			lid, ltsp, lday, lkind, lseq = append(lid, c.arg.t.ID), append(ltsp, lc.key.tsp), append(lday, lc.key.day), append(lkind, lc.key.kind), append(lseq, lc.key.seq)
			llim, lamount = append(llim, lc.limit), append(lamount, c.arg.t.Amount)
		}
	}
	arrays, casts, err := columnArrays(rows)
	if err != nil {
		return nil, false
	}
	n := len(arrays)
	arrays = append(arrays, lid, ltsp, lday, lkind, lseq, llim, lamount)
	query := fmt.Sprintf(`WITH ins AS (
			INSERT INTO transfers (`+transferColumns+`, lease_owner, lease_until)
			SELECT * FROM unnest(`+casts+`)
			ON CONFLICT (tsp_id, tran_day, bank_tran_id) DO NOTHING
			RETURNING id),
		unf AS (INSERT INTO unfinished_transfers (id) SELECT id FROM ins),
		need AS (
			SELECT l.tsp, l.day, l.kind, l.seq, MIN(NULLIF(l.lim, 0)) AS lim, SUM(l.amount) AS amount
			FROM unnest($%d::text[], $%d::bigint[], $%d::text[], $%d::text[], $%d::text[], $%d::bigint[], $%d::bigint[])
				AS l(id, tsp, day, kind, seq, lim, amount)
			JOIN ins ON ins.id = l.id
			GROUP BY l.tsp, l.day, l.kind, l.seq),
		lim AS (
			INSERT INTO limit_usage (tsp_id, day, kind, user_seq_no, used)
			SELECT tsp, day, kind, seq, amount FROM need ORDER BY tsp, day, kind, seq
			ON CONFLICT (tsp_id, day, kind, user_seq_no) DO UPDATE SET used = limit_usage.used + excluded.used
			RETURNING tsp_id, day, kind, user_seq_no, used),
		over AS (
			SELECT COUNT(*) AS n FROM lim JOIN need
				ON lim.tsp_id = need.tsp AND lim.day = need.day AND lim.kind = need.kind AND lim.user_seq_no = need.seq
			WHERE lim.used > need.lim)
		SELECT ins.id, 0, '', '', '', 0 FROM ins WHERE 1 / (1 - LEAST((SELECT n FROM over), 1)) = 1
		UNION ALL
		SELECT '', tsp_id, day, kind, user_seq_no, used FROM lim`, n+1, n+2, n+3, n+4, n+5, n+6, n+7)
	rs, err := db.db.QueryContext(ctx, query, arrays...)
	if err != nil {
		return nil, false
	}
	inserted := make(map[string]bool, len(calls))
	used := map[limitKey]int64{}
	for rs.Next() {
		var id string
		var k limitKey
		var u int64
		if err := rs.Scan(&id, &k.tsp, &k.day, &k.kind, &k.seq, &u); err != nil {
			rs.Close()
			return nil, false
		}
		if id != "" {
			inserted[id] = true
		} else {
			used[k] = u
		}
	}
	rs.Close()
	if rs.Err() != nil {
		return nil, false // the statement failed as a whole: nothing was written
	}
	// Committed. What is left to learn is read, not written.
	outcomes = make([]error, len(calls))
	for _, c := range calls {
		if inserted[c.arg.t.ID] {
			for _, lc := range limitChecks(c.arg.t, c.arg.lim) {
				c.arg.setUsed(lc.key, used[lc.key])
			}
		}
	}
	if len(inserted) < len(calls) {
		if err := findPriors(ctx, db.db, calls, inserted, outcomes); err != nil {
			// Some request's earlier transfer is neither here nor gone for
			// good: settle those calls one by one.
			for i, c := range calls {
				if !inserted[c.arg.t.ID] && c.arg.prior == nil {
					a := c.arg
					outcomes[i] = db.transact(ctx, func(tx *sql.Tx) error { return db.acceptOne(ctx, tx, a) })
				}
			}
		}
	}
	return outcomes, true
}

// limitKey names one limit_usage row.
type limitKey struct {
	tsp            int64
	day, kind, seq string
}

func compareLimitKeys(a, b limitKey) int {
	return cmp.Or(cmp.Compare(a.tsp, b.tsp), cmp.Compare(a.day, b.day), cmp.Compare(a.kind, b.kind), cmp.Compare(a.seq, b.seq))
}

// limitCheck is one limit a transfer counts against.
type limitCheck struct {
	key      limitKey
	limit    int64 // 0: none, the use is only counted
	sentinel error
}

// limitChecks returns the limits t counts against under lim, in the order
// their refusals take precedence.
func limitChecks(t *obx.Transfer, lim obx.LimitUse) []limitCheck {
	kind, seqs := limitRows(t)
	out := make([]limitCheck, len(seqs))
	for i, seq := range seqs {
		limit, sentinel := lim.TSPDaily, obx.ErrTSPDailyLimit
		if lim.Deposit {
			sentinel = obx.ErrDepositDailyLimit
		}
		if i == 1 {
			limit, sentinel = lim.UserDaily, obx.ErrUserDailyLimit
		}
		out[i] = limitCheck{limitKey{t.TSPID, t.LimitDay, kind, seq}, limit, sentinel}
	}
	return out
}

// acceptPostgres accepts calls with a few statements for the whole batch:
//
//  1. one INSERT of every transfer, skipping those whose request key exists;
//  2. for the skipped ones, one SELECT of the earlier transfers (a retry gets
//     its original, a different request ErrDuplicateTranID);
//  3. one upsert that creates, locks and reads every limit row involved, in
//     key order so that replicas lock alike;
//  4. in Go, each inserted transfer in turn takes its amount from its limits
//     or is refused, exactly as one conditional UPDATE each would decide;
//  5. one UPDATE of the limit rows, and one DELETE of the refused transfers.
//
// The limit rows are the hot ones (every withdrawal of a TSP counts against
// its row): they are locked last, held for two statements and the commit,
// and once per batch instead of once per transfer.
func (db *DB) acceptPostgres(ctx context.Context, tx *sql.Tx, calls []*groupCall[*acceptArg]) ([]error, error) {
	outcomes := make([]error, len(calls))
	rows := make([][]any, len(calls))
	for i, c := range calls {
		rows[i] = db.transferRow(c.arg.t, c.arg.owner, c.arg.leaseUntil)
	}
	arrays, casts, err := columnArrays(rows)
	if err != nil {
		return nil, err
	}
	inserted := make(map[string]bool, len(calls))
	if err := queryStrings(ctx, tx, func(id string) { inserted[id] = true },
		`WITH ins AS (INSERT INTO transfers (`+transferColumns+`, lease_owner, lease_until)
			SELECT * FROM unnest(`+casts+`)
			ON CONFLICT (tsp_id, tran_day, bank_tran_id) DO NOTHING
			RETURNING id),
		unf AS (INSERT INTO unfinished_transfers (id) SELECT id FROM ins)
		SELECT id FROM ins`, arrays...); err != nil {
		return nil, fmt.Errorf("insert transfers: %w", err)
	}

	if len(inserted) < len(calls) {
		if err := findPriors(ctx, tx, calls, inserted, outcomes); err != nil {
			return nil, err
		}
	}

	// Limits of the inserted transfers.
	checks := make([][]limitCheck, len(calls))
	var keys []limitKey
	for i, c := range calls {
		if inserted[c.arg.t.ID] {
			checks[i] = limitChecks(c.arg.t, c.arg.lim)
			for _, lc := range checks[i] {
				keys = append(keys, lc.key)
			}
		}
	}
	if len(keys) == 0 {
		return outcomes, nil
	}
	slices.SortFunc(keys, compareLimitKeys)
	keys = slices.Compact(keys)
	var (
		ktsp              []int64
		kday, kkind, kseq []string
	)
	for _, k := range keys {
		ktsp, kday, kkind, kseq = append(ktsp, k.tsp), append(kday, k.day), append(kkind, k.kind), append(kseq, k.seq)
	}
	used := make(map[limitKey]int64, len(keys))
	rs, err := tx.QueryContext(ctx, `
		INSERT INTO limit_usage (tsp_id, day, kind, user_seq_no, used)
		SELECT k.tsp, k.day, k.kind, k.seq, 0 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS k(tsp, day, kind, seq)
		ON CONFLICT (tsp_id, day, kind, user_seq_no) DO UPDATE SET used = limit_usage.used
		RETURNING tsp_id, day, kind, user_seq_no, used`, ktsp, kday, kkind, kseq)
	if err != nil {
		return nil, fmt.Errorf("lock limits: %w", err)
	}
	for rs.Next() {
		var k limitKey
		var u int64
		if err := rs.Scan(&k.tsp, &k.day, &k.kind, &k.seq, &u); err != nil {
			rs.Close()
			return nil, fmt.Errorf("lock limits: %w", err)
		}
		used[k] = u
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("lock limits: %w", err)
	}

	var refused []string
	for i, c := range calls {
		if checks[i] == nil {
			continue
		}
		amount := c.arg.t.Amount
		for _, lc := range checks[i] {
			if lc.limit > 0 && used[lc.key]+amount > lc.limit {
				outcomes[i] = obx.WrapError(obx.ELIMIT, "the amount exceeds the remaining daily limit", lc.sentinel)
				break
			}
		}
		if outcomes[i] != nil {
			refused = append(refused, c.arg.t.ID)
			continue
		}
		for _, lc := range checks[i] {
			used[lc.key] += amount
			c.arg.setUsed(lc.key, used[lc.key])
		}
	}
	var uused []int64
	for _, k := range keys {
		uused = append(uused, used[k])
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE limit_usage AS l SET used = v.used
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS v(tsp, day, kind, seq, used)
		WHERE l.tsp_id = v.tsp AND l.day = v.day AND l.kind = v.kind AND l.user_seq_no = v.seq`,
		ktsp, kday, kkind, kseq, uused); err != nil {
		return nil, fmt.Errorf("consume limits: %w", err)
	}
	if len(refused) > 0 {
		if _, err := tx.ExecContext(ctx, `WITH unf AS (DELETE FROM unfinished_transfers WHERE id = ANY($1::text[]))
			DELETE FROM transfers WHERE id = ANY($1::text[])`, refused); err != nil {
			return nil, fmt.Errorf("drop refused transfers: %w", err)
		}
	}
	return outcomes, nil
}

// queryStrings runs a query returning one text column and calls fn for each
// value.
func queryStrings(ctx context.Context, tx *sql.Tx, fn func(string), query string, args ...any) error {
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			return err
		}
		fn(s)
	}
	return rs.Err()
}

// columnArrays turns rows of values into one typed array per column, for
// PostgreSQL's unnest, and the list of cast parameters ($1::text[], …) that
// reads them back in order.
func columnArrays(rows [][]any) (arrays []any, casts string, err error) {
	if len(rows) == 0 {
		return nil, "", nil
	}
	for j := range rows[0] {
		if j > 0 {
			casts += ", "
		}
		switch rows[0][j].(type) {
		case string:
			col, err := column[string](rows, j)
			if err != nil {
				return nil, "", err
			}
			arrays = append(arrays, col)
			casts += fmt.Sprintf("$%d::text[]", j+1)
		case int64:
			col, err := column[int64](rows, j)
			if err != nil {
				return nil, "", err
			}
			arrays = append(arrays, col)
			casts += fmt.Sprintf("$%d::bigint[]", j+1)
		case bool:
			col, err := column[bool](rows, j)
			if err != nil {
				return nil, "", err
			}
			arrays = append(arrays, col)
			casts += fmt.Sprintf("$%d::boolean[]", j+1)
		case time.Time:
			col, err := column[time.Time](rows, j)
			if err != nil {
				return nil, "", err
			}
			arrays = append(arrays, col)
			casts += fmt.Sprintf("$%d::timestamptz[]", j+1)
		default:
			return nil, "", fmt.Errorf("columnArrays: unsupported %T in column %d", rows[0][j], j)
		}
	}
	return arrays, casts, nil
}

func column[T any](rows [][]any, j int) ([]T, error) {
	out := make([]T, len(rows))
	for i, r := range rows {
		v, ok := r[j].(T)
		if !ok {
			return nil, fmt.Errorf("columnArrays: column %d holds %T and %T", j, rows[0][j], r[j])
		}
		out[i] = v
	}
	return out, nil
}
