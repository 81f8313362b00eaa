package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

var (
	_ obx.TransferStore   = (*DB)(nil)
	_ obx.ContractStore   = (*DB)(nil)
	_ obx.SettlementStore = (*DB)(nil)
)

const transferColumns = `id, tsp_id, kind, bank_tran_id, tran_day, limit_day, request_hash, amount, user_seq_no,
	debit_bank, debit_account, debit_fintech_num, debit_holder, debit_print, debit_rsp_code, debit_rsp_message, debit_day,
	credit_bank, credit_account, credit_fintech_num, credit_holder, credit_print, credit_rsp_code, credit_rsp_message, credit_day,
	name_check, echo, state, reversed, rsp_code, rsp_message, created_at, updated_at, credit_after_balance`

func scanTransfer(row interface{ Scan(...any) error }) (*obx.Transfer, error) {
	var t obx.Transfer
	var echo string
	d, c := &t.Debit, &t.Credit
	err := row.Scan(&t.ID, &t.TSPID, &t.Kind, &t.BankTranID, &t.TranDay, &t.LimitDay, &t.RequestHash, &t.Amount, &t.UserSeqNo,
		&d.BankCode, &d.AccountNum, &d.FintechUseNum, &d.HolderName, &d.PrintContent, &d.RspCode, &d.RspMessage, &d.BankTranDay,
		&c.BankCode, &c.AccountNum, &c.FintechUseNum, &c.HolderName, &c.PrintContent, &c.RspCode, &c.RspMessage, &c.BankTranDay,
		&t.NameCheck, &echo, &t.State, &t.Reversed, &t.RspCode, &t.RspMessage, scanTime(&t.CreatedAt), scanTime(&t.UpdatedAt),
		&t.CreditAfterBalance)
	t.Echo = []byte(echo)
	return &t, err
}

// limitKinds of limit_usage rows.
const (
	limitWithdraw = "withdraw"
	limitDeposit  = "deposit"
)

// consume adds amount to a limit_usage row if the result stays within limit
// (0: no limit). The casts matter: compared with the literal 0, PostgreSQL
// would type the limit as int4 and refuse limits above 2,147,483,647 won. The conditional UPDATE holds the row lock, so concurrent
// transactions on any replica are serialized on it and can never exceed the
// limit together.
func (db *DB) consume(ctx context.Context, tx *sql.Tx, k limitKey, amount, limit int64) (used int64, ok bool, err error) {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO limit_usage (tsp_id, day, kind, user_seq_no, used) VALUES ($1, $2, $3, $4, 0)
		ON CONFLICT DO NOTHING`, k.tsp, k.day, k.kind, k.seq); err != nil {
		return 0, false, fmt.Errorf("limit row: %w", err)
	}
	err = tx.QueryRowContext(ctx, `
		UPDATE limit_usage SET used = used + $5
		WHERE tsp_id = $1 AND day = $2 AND kind = $3 AND user_seq_no = $4
			AND (CAST($6 AS BIGINT) <= 0 OR used + $5 <= CAST($6 AS BIGINT))
		RETURNING used`,
		k.tsp, k.day, k.kind, k.seq, amount, limit).Scan(&used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("consume limit: %w", err)
	}
	return used, true, nil
}

func (db *DB) release(ctx context.Context, tx *sql.Tx, k limitKey, amount int64) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE limit_usage SET used = used - $5 WHERE tsp_id = $1 AND day = $2 AND kind = $3 AND user_seq_no = $4`,
		k.tsp, k.day, k.kind, k.seq, amount)
	if err != nil {
		return fmt.Errorf("release limit: %w", err)
	}
	return nil
}

// limitRows returns the limit rows a transfer counts against: the TSP's
// total, and for withdrawals the customer's.
func limitRows(t *obx.Transfer) (kind string, seqs []string) {
	switch t.Kind {
	case obx.TransferDeposit:
		return limitDeposit, []string{""}
	case obx.TransferReturn:
		return "", nil // money coming back to the TSP uses no limit
	}
	return limitWithdraw, []string{"", t.UserSeqNo}
}

// AcceptTransfer implements obx.TransferStore. Withdrawals and deposits
// arriving together are accepted in one transaction (see group and
// acceptBatch); a return claim, which locks the deposit it claims, is
// accepted alone.
func (db *DB) AcceptTransfer(ctx context.Context, t *obx.Transfer, lim obx.LimitUse, owner string, leaseUntil time.Time) (*obx.Transfer, obx.Usage, error) {
	if t.State == "" {
		t.State = obx.TransferAccepted
	}
	if obx.TransferFinal(t.State) {
		// Recorded in flight (outcome ''); SaveTransfer finishes it.
		return nil, obx.Usage{}, fmt.Errorf("accept transfer: state %q is final", t.State)
	}
	a := &acceptArg{t: t, lim: lim, owner: owner, leaseUntil: leaseUntil}
	if t.Kind == obx.TransferReturn {
		err := db.transact(ctx, func(tx *sql.Tx) (err error) {
			return db.acceptOne(ctx, tx, a)
		})
		return a.prior, a.used, err
	}
	err := db.accepts.do(ctx, a)
	return a.prior, a.used, err
}

func errDuplicate() error {
	return obx.WrapError(obx.ECONFLICT, "bank_tran_id was already used today for another request", obx.ErrDuplicateTranID)
}

// acceptOne accepts t inside tx, statement by statement: the path for return
// claims, for SQLite, and for a batch that failed as a whole.
// It sets a's prior or used.
func (db *DB) acceptOne(ctx context.Context, tx *sql.Tx, a *acceptArg) error {
	t, lim := a.t, a.lim
	a.prior, a.used = nil, obx.Usage{}
	p, err := scanTransfer(tx.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE tsp_id = $1 AND tran_day = $2 AND bank_tran_id = $3`, t.TSPID, t.TranDay, t.BankTranID))
	switch {
	case err == nil:
		a.prior = p
		if p.RequestHash != t.RequestHash {
			return errDuplicate()
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("find transfer: %w", err)
	}

	if t.Kind == obx.TransferReturn {
		// Updating the original deposit's row locks it, so that two claims of
		// one deposit are decided one after the other.
		if _, err := tx.ExecContext(ctx, `UPDATE transfers SET updated_at = updated_at WHERE id = $1`, string(t.Echo)); err != nil {
			return fmt.Errorf("lock claimed deposit: %w", err)
		}
		var live int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM transfers
			WHERE tsp_id = $1 AND kind = $2 AND echo = $3 AND state <> $4`,
			t.TSPID, obx.TransferReturn, string(t.Echo), obx.TransferFailed).Scan(&live)
		if err != nil {
			return fmt.Errorf("count claims: %w", err)
		}
		if live > 0 {
			return obx.WrapError(obx.ECONFLICT, "the deposit was already claimed", obx.ErrAlreadyClaimed)
		}
	}
	for _, lc := range limitChecks(t, lim) {
		used, ok, err := db.consume(ctx, tx, lc.key, t.Amount, lc.limit)
		if err != nil {
			return err
		}
		if !ok {
			return obx.WrapError(obx.ELIMIT, "the amount exceeds the remaining daily limit", lc.sentinel)
		}
		a.setUsed(lc.key, used)
	}
	now := db.Now().UTC()
	if t.State == "" {
		t.State = obx.TransferAccepted
	}
	t.CreatedAt, t.UpdatedAt = now, now
	_, err = tx.ExecContext(ctx, `INSERT INTO transfers (`+transferColumns+`, lease_owner, lease_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
			$22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36)`,
		db.transferRow(t, a.owner, a.leaseUntil)...)
	if isUniqueViolation(err) {
		// A concurrent request with the same bank_tran_id won; let the
		// transaction rerun and find it.
		return &retryError{err}
	}
	if err != nil {
		return fmt.Errorf("insert transfer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO unfinished_transfers (id) VALUES ($1)`, t.ID); err != nil {
		return fmt.Errorf("list unfinished transfer: %w", err)
	}
	return nil
}

// transferRow is a transfer's row in the order of transferColumns, then its
// lease.
func (db *DB) transferRow(t *obx.Transfer, owner string, leaseUntil time.Time) []any {
	return []any{t.ID, t.TSPID, t.Kind, t.BankTranID, t.TranDay, t.LimitDay, t.RequestHash, t.Amount, t.UserSeqNo,
		t.Debit.BankCode, t.Debit.AccountNum, t.Debit.FintechUseNum, t.Debit.HolderName, t.Debit.PrintContent,
		t.Debit.RspCode, t.Debit.RspMessage, t.Debit.BankTranDay,
		t.Credit.BankCode, t.Credit.AccountNum, t.Credit.FintechUseNum, t.Credit.HolderName, t.Credit.PrintContent,
		t.Credit.RspCode, t.Credit.RspMessage, t.Credit.BankTranDay,
		t.NameCheck, string(t.Echo), t.State, t.Reversed, t.RspCode, t.RspMessage, db.ts(t.CreatedAt), db.ts(t.UpdatedAt),
		t.CreditAfterBalance, owner, db.ts(leaseUntil)}
}

// retryError marks an error after which the whole transaction reruns.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// SaveTransfer implements obx.TransferStore. The write is one conditional
// UPDATE: it applies only while owner holds the lease and the stored state is
// unfinished and not past t.State. Checked and written in one statement, two
// drivers of one transfer (a replica that lost its lease while another took
// over) can never both finish it, nor can the slower one move it backwards.
//
// Saves arriving together share one transaction (see group): on PostgreSQL
// one UPDATE over arrays saves them all, and the settlement cycle's row is
// counted up once per batch.
func (db *DB) SaveTransfer(ctx context.Context, t *obx.Transfer, owner string) error {
	if len(statesUpTo(t.State)) == 0 {
		return fmt.Errorf("save transfer: unknown state %q", t.State)
	}
	return db.saves.do(ctx, saveArg{t: t, owner: owner})
}

// saveArg is one SaveTransfer call.
type saveArg struct {
	t     *obx.Transfer
	owner string
}

// runSaves saves a batch. A transfer saved twice in one batch (two drivers in
// this process, one of which lost its lease) is saved in a later round, so
// that each UPDATE names a row once and each call learns its own outcome.
func (db *DB) runSaves(ctx context.Context, calls []*groupCall[saveArg]) {
	for len(calls) > 0 {
		seen := make(map[string]bool, len(calls))
		var now, later []*groupCall[saveArg]
		for _, c := range calls {
			if seen[c.arg.t.ID] {
				later = append(later, c)
				continue
			}
			seen[c.arg.t.ID] = true
			now = append(now, c)
		}
		db.saveBatch(ctx, now)
		calls = later
	}
}

// saveBatch saves calls in one transaction. If the transaction fails, each
// call is retried alone, so that one transfer whose write fails cannot fail
// the others.
func (db *DB) saveBatch(ctx context.Context, calls []*groupCall[saveArg]) {
	now := db.Now().UTC()
	slices.SortFunc(calls, func(a, b *groupCall[saveArg]) int { return strings.Compare(a.arg.t.ID, b.arg.t.ID) })
	for _, c := range calls {
		c.arg.t.UpdatedAt = now
	}
	saved, ok := db.saveAtOnce(ctx, calls)
	if ok {
		for _, c := range calls {
			if !saved[c.arg.t.ID] {
				c.err = obx.Errorf(obx.ECONFLICT, "the transfer's lease was lost, or another driver moved it on")
			}
		}
		return
	}
	err := db.transact(ctx, func(tx *sql.Tx) error {
		var err error
		if saved, err = db.updateStates(ctx, tx, calls); err != nil {
			return err
		}
		var completed []*obx.Transfer
		released := map[limitKey]int64{}
		for _, c := range calls {
			t := c.arg.t
			if !saved[t.ID] {
				continue
			}
			switch t.State {
			case obx.TransferFailed:
				for _, lc := range limitChecks(t, obx.LimitUse{}) {
					released[lc.key] += t.Amount
				}
			case obx.TransferCompleted:
				completed = append(completed, t)
			}
		}
		// In key order, as acceptance locks them, so batches cannot deadlock.
		for _, k := range slices.SortedFunc(maps.Keys(released), compareLimitKeys) {
			if err := db.release(ctx, tx, k, released[k]); err != nil {
				return err
			}
		}
		return db.recordMovements(ctx, tx, completed)
	})
	if err != nil && len(calls) > 1 && ctx.Err() == nil {
		for i := range calls {
			db.saveBatch(ctx, calls[i:i+1])
		}
		return
	}
	for _, c := range calls {
		switch {
		case err != nil:
			c.err = fmt.Errorf("save transfer: %w", err)
		case !saved[c.arg.t.ID]:
			c.err = obx.Errorf(obx.ECONFLICT, "the transfer's lease was lost, or another driver moved it on")
		}
	}
}

// stateRank is SQL for the position of a stored state in stateOrder (31 for
// the final states), to test against a call's mask of states it may be saved
// from.
var stateRank = func() string {
	var b strings.Builder
	b.WriteString("CASE t.state")
	for i, st := range stateOrder {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", st, i)
	}
	b.WriteString(" ELSE 31 END")
	return b.String()
}()

// fromMask is the bit set of stateOrder positions a transfer may be saved from
// into state.
func fromMask(state string) int32 {
	var m int32
	for _, st := range statesUpTo(state) {
		m |= 1 << slices.Index(stateOrder, st)
	}
	return m
}

// outcomeOf is SQL for the outcome column of a transfer in state: the state
// once final, the empty string before (migration 00007 says why the column exists).
func outcomeOf(state string) string {
	return "CASE WHEN " + state + " IN ('" + obx.TransferCompleted + "', '" + obx.TransferFailed + "') THEN " + state + " ELSE '' END"
}

// The parts of a batch's UPDATE on PostgreSQL: the calls as arrays
// (saveArrays), unnested as v, and the conditional update of t from v.
const saveFrom = `unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::boolean[], $14::text[],
		$15::text[], $16::timestamptz[], $17::bigint[])
		AS v(id, owner, mask, drc, drm, dday, dholder, crc, crm, cday, cholder, state, reversed, rc, rm, updated, after)`

// finishedCTE, in a statement whose CTE upd returns the saved transfers' ids
// and states, takes the finished ones off unfinished_transfers.
// The ids go in as an array so that the delete probes the primary key
// whatever the planner believes of the table's size.
var finishedCTE = `fin AS (DELETE FROM unfinished_transfers
				WHERE id = ANY(ARRAY(SELECT id FROM upd WHERE state IN ('` + obx.TransferCompleted + `', '` + obx.TransferFailed + `'))))`

// TidyUnfinished vacuums unfinished_transfers on PostgreSQL. Every transfer
// adds a row there and removes it moments later, so the table is small but
// its dead rows pile up at thousands a second: without a vacuum, which
// autovacuum may run too late or (if it is off) never, every statement that
// reads the table reads them all. The hub calls it every few seconds; on a
// table of a few hundred rows it takes milliseconds and blocks no writer.
// SQLite reuses the pages of deleted rows itself.
func (db *DB) TidyUnfinished(ctx context.Context) error {
	if db.engine != Postgres {
		return nil
	}
	if _, err := db.db.ExecContext(ctx, `VACUUM unfinished_transfers`); err != nil {
		return fmt.Errorf("vacuum unfinished_transfers: %w", err)
	}
	return nil
}

var (
	saveSet = `debit_rsp_code = v.drc, debit_rsp_message = v.drm, debit_day = v.dday, debit_holder = v.dholder,
		credit_rsp_code = v.crc, credit_rsp_message = v.crm, credit_day = v.cday, credit_holder = v.cholder,
		state = v.state, outcome = ` + outcomeOf("v.state") + `, reversed = v.reversed, rsp_code = v.rc, rsp_message = v.rm,
		updated_at = v.updated, credit_after_balance = v.after`
	saveWhere = `t.id = v.id AND t.lease_owner = v.owner AND (v.mask >> (` + stateRank + `)) & 1 = 1`
)

func saveArrays(calls []*groupCall[saveArg]) []any {
	var (
		ids, owners, states, drc, drm, dday, dholder, crc, crm, cday, cholder, rc, rm []string
		masks                                                                         []int32
		reversed                                                                      []bool
		updated                                                                       []time.Time
		after                                                                         []int64
	)
	for _, c := range calls {
		t := c.arg.t
		ids, owners, masks = append(ids, t.ID), append(owners, c.arg.owner), append(masks, fromMask(t.State))
		drc, drm, dday, dholder = append(drc, t.Debit.RspCode), append(drm, t.Debit.RspMessage), append(dday, t.Debit.BankTranDay), append(dholder, t.Debit.HolderName)
		crc, crm, cday, cholder = append(crc, t.Credit.RspCode), append(crm, t.Credit.RspMessage), append(cday, t.Credit.BankTranDay), append(cholder, t.Credit.HolderName)
		states, reversed, rc, rm = append(states, t.State), append(reversed, t.Reversed), append(rc, t.RspCode), append(rm, t.RspMessage)
		updated, after = append(updated, t.UpdatedAt), append(after, t.CreditAfterBalance)
	}
	return []any{ids, owners, masks, drc, drm, dday, dholder, crc, crm, cday, cholder, states, reversed, rc, rm, updated, after}
}

// cycleOpened reports whether day's settlement cycle has a row, creating it
// if need be; each process asks the database once per day.
func (db *DB) cycleOpened(day string) bool {
	if _, ok := db.cycles.Load(day); ok {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := db.db.ExecContext(ctx, `INSERT INTO settlement_cycles (day) VALUES ($1) ON CONFLICT DO NOTHING`, day); err != nil {
		return false
	}
	db.cycles.Store(day, true)
	return true
}

// saveAtOnce saves calls on PostgreSQL in one statement, committed on its own:
// one round trip instead of a transaction's five or more. It handles the
// common saves, a step forward or a completion; it declines (ok false,
// nothing written) a batch with a failure, which gives limits back, or a
// completion whose settlement cycle this process has not yet seen open.
//
// A completion's movement is booked in the same statement under a share lock
// on its cycle's row, as recordMovements does. Should the cycle have closed
// meanwhile, the statement divides by the number of open cycles it found,
// zero, and so fails as a whole; the batch then takes the transaction path,
// which books into the next open cycle.
func (db *DB) saveAtOnce(ctx context.Context, calls []*groupCall[saveArg]) (saved map[string]bool, ok bool) {
	if db.engine != Postgres {
		return nil, false
	}
	cycle := ""
	for _, c := range calls {
		switch c.arg.t.State {
		case obx.TransferFailed:
			return nil, false
		case obx.TransferCompleted:
			cycle = db.Cutoff.Day(c.arg.t.UpdatedAt)
		}
	}
	if cycle != "" && !db.cycleOpened(cycle) {
		return nil, false
	}
	args := saveArrays(calls)
	query := `WITH upd AS (UPDATE transfers AS t SET ` + saveSet + ` FROM ` + saveFrom + ` WHERE ` + saveWhere + `
				RETURNING t.id, t.state),
			` + finishedCTE + `
			SELECT upd.id FROM upd`
	if cycle != "" {
		args = append(args, cycle)
		query = `WITH cyc AS (SELECT day FROM settlement_cycles WHERE day = $18 AND closed_at IS NULL FOR SHARE),
			upd AS (UPDATE transfers AS t SET ` + saveSet + ` FROM ` + saveFrom + ` WHERE ` + saveWhere + `
				RETURNING t.id, t.state, t.debit_bank, t.credit_bank, t.amount, t.updated_at),
			mov AS (INSERT INTO interbank_movements (transfer_id, cycle_day, from_bank, to_bank, amount, created_at)
				SELECT upd.id, cyc.day, upd.debit_bank, upd.credit_bank, upd.amount, upd.updated_at
				FROM upd, cyc WHERE upd.state = 'completed'),
			` + finishedCTE + `
			SELECT upd.id FROM upd WHERE upd.state <> 'completed' OR 1 / (SELECT COUNT(*) FROM cyc) = 1`
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	saved = make(map[string]bool, len(calls))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false
		}
		saved[id] = true
	}
	if rows.Err() != nil {
		// Nothing was written: the statement failed as a whole.
		return nil, false
	}
	return saved, true
}

// updateStates applies the calls' conditional UPDATEs and returns the ids of
// the transfers it saved.
func (db *DB) updateStates(ctx context.Context, tx *sql.Tx, calls []*groupCall[saveArg]) (map[string]bool, error) {
	saved := make(map[string]bool, len(calls))
	if db.engine == Postgres {
		rows, err := tx.QueryContext(ctx, `WITH upd AS (UPDATE transfers AS t SET `+saveSet+` FROM `+saveFrom+`
				WHERE `+saveWhere+` RETURNING t.id, t.state),
			`+finishedCTE+`
			SELECT upd.id FROM upd`, saveArrays(calls)...)
		if err != nil {
			return nil, fmt.Errorf("save transfers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			saved[id] = true
		}
		return saved, rows.Err()
	}
	// SQLite runs in process: a statement per transfer costs no round trip.
	for _, c := range calls {
		t := c.arg.t
		res, err := tx.ExecContext(ctx, `UPDATE transfers AS t SET
				debit_rsp_code = $1, debit_rsp_message = $2, debit_day = $3, debit_holder = $4,
				credit_rsp_code = $5, credit_rsp_message = $6, credit_day = $7, credit_holder = $8,
				state = $9, outcome = `+outcomeOf("$9")+`, reversed = $10, rsp_code = $11, rsp_message = $12, updated_at = $13,
				credit_after_balance = $14
			WHERE id = $15 AND lease_owner = $16 AND ($17 >> (`+stateRank+`)) & 1 = 1`,
			t.Debit.RspCode, t.Debit.RspMessage, t.Debit.BankTranDay, t.Debit.HolderName,
			t.Credit.RspCode, t.Credit.RspMessage, t.Credit.BankTranDay, t.Credit.HolderName,
			t.State, t.Reversed, t.RspCode, t.RspMessage, db.ts(t.UpdatedAt), t.CreditAfterBalance, t.ID, c.arg.owner,
			fromMask(t.State))
		if err != nil {
			return nil, fmt.Errorf("save transfer: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("save transfer: %w", err)
		} else if n == 1 {
			saved[t.ID] = true
			if obx.TransferFinal(t.State) {
				if _, err := tx.ExecContext(ctx, `DELETE FROM unfinished_transfers WHERE id = $1`, t.ID); err != nil {
					return nil, fmt.Errorf("save transfer: %w", err)
				}
			}
		}
	}
	return saved, nil
}

// stateOrder is how far along its way each unfinished state is; the final
// states come after all of them.
var stateOrder = []string{obx.TransferAccepted, obx.TransferDebiting, obx.TransferDebited, obx.TransferCrediting, obx.TransferReversing}

// statesUpTo returns the states a transfer may be saved from into state: the
// unfinished ones not past it. Only a reversal comes after crediting, and it
// ends in failure.
func statesUpTo(state string) []string {
	switch state {
	case obx.TransferFailed:
		return stateOrder
	case obx.TransferCompleted:
		return stateOrder[:4]
	}
	if i := slices.Index(stateOrder, state); i >= 0 {
		return stateOrder[:i+1]
	}
	return nil
}

// recordMovements books completed transfers' interbank movements into the
// first open settlement cycle from each one's day on. Booking holds a share
// lock on the cycle's row and closing takes it exclusively, so a cycle being
// closed either already holds the movements or is closed before them, never
// half; and bookings, which share the lock, never wait for each other.
// (The row's movements column, which an earlier version incremented under
// the lock, is no longer kept: reports count the movement rows.)
func (db *DB) recordMovements(ctx context.Context, tx *sql.Tx, ts []*obx.Transfer) error {
	byDay := map[string][]*obx.Transfer{}
	var days []string
	for _, t := range ts {
		d := db.Cutoff.Day(t.UpdatedAt)
		if byDay[d] == nil {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], t)
	}
	slices.Sort(days)
	for _, d := range days {
		cycle, err := db.openCycle(ctx, tx, d)
		if err != nil {
			return err
		}
		if err := db.insertMovements(ctx, tx, cycle, byDay[d]); err != nil {
			return err
		}
	}
	return nil
}

// openCycle share-locks the first open cycle from day on and returns its
// day.
func (db *DB) openCycle(ctx context.Context, tx *sql.Tx, day string) (string, error) {
	at, err := time.Parse("20060102", day)
	if err != nil {
		return "", err
	}
	for range 400 {
		d := at.Format("20060102")
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_cycles (day) VALUES ($1) ON CONFLICT DO NOTHING`, d); err != nil {
			return "", fmt.Errorf("open cycle: %w", err)
		}
		// Under READ COMMITTED a lock that waited for a closing re-reads the
		// row and finds it closed. SQLite has one writer: no lock is needed.
		lock := ""
		if db.engine == Postgres {
			lock = " FOR SHARE"
		}
		var open string
		err := tx.QueryRowContext(ctx, `SELECT day FROM settlement_cycles WHERE day = $1 AND closed_at IS NULL`+lock, d).Scan(&open)
		switch {
		case err == nil:
			return d, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("lock cycle: %w", err)
		}
		at = at.AddDate(0, 0, 1)
	}
	return "", errors.New("record movement: no open settlement cycle within 400 days")
}

func (db *DB) insertMovements(ctx context.Context, tx *sql.Tx, cycle string, ts []*obx.Transfer) error {
	if db.engine == Postgres {
		var (
			ids, from, to []string
			amounts       []int64
			at            []time.Time
		)
		for _, t := range ts {
			ids, from, to = append(ids, t.ID), append(from, t.Debit.BankCode), append(to, t.Credit.BankCode)
			amounts, at = append(amounts, t.Amount), append(at, t.UpdatedAt)
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO interbank_movements (transfer_id, cycle_day, from_bank, to_bank, amount, created_at)
			SELECT v.id, $2, v.from_bank, v.to_bank, v.amount, v.at
			FROM unnest($1::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[]) AS v(id, from_bank, to_bank, amount, at)`,
			ids, cycle, from, to, amounts, at)
		if err != nil {
			return fmt.Errorf("insert movements: %w", err)
		}
		return nil
	}
	for _, t := range ts {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO interbank_movements (transfer_id, cycle_day, from_bank, to_bank, amount, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, cycle, t.Debit.BankCode, t.Credit.BankCode, t.Amount, db.ts(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("insert movement: %w", err)
		}
	}
	return nil
}

var kst = time.FixedZone("KST", 9*60*60)

// Transfer implements obx.TransferStore.
func (db *DB) Transfer(ctx context.Context, tspID int64, bankTranID, day string) (*obx.Transfer, error) {
	t, err := scanTransfer(db.q.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE tsp_id = $1 AND tran_day = $2 AND bank_tran_id = $3`, tspID, day, bankTranID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "No such transfer.", obx.ErrTransferNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	return t, nil
}

// TransferByID implements obx.TransferStore.
func (db *DB) TransferByID(ctx context.Context, tspID int64, id string) (*obx.Transfer, error) {
	t, err := scanTransfer(db.q.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE id = $1 AND tsp_id = $2`, id, tspID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "No such transfer.", obx.ErrTransferNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("transfer by id: %w", err)
	}
	return t, nil
}

// ClaimTransfers implements obx.TransferStore. On PostgreSQL the candidates
// are locked with FOR UPDATE SKIP LOCKED, so replicas claiming at once take
// disjoint sets without waiting; the lease condition is repeated in the
// UPDATE so that a row is claimed only while its lease is expired.
func (db *DB) ClaimTransfers(ctx context.Context, owner string, now, leaseUntil time.Time, n int) ([]*obx.Transfer, error) {
	lock := ""
	if db.engine == Postgres {
		lock = ` FOR UPDATE OF t SKIP LOCKED`
	}
	var out []*obx.Transfer
	err := db.transact(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT t.id FROM unfinished_transfers AS u JOIN transfers AS t ON t.id = u.id
			WHERE t.outcome = '' AND t.lease_until < $1
			ORDER BY t.lease_until LIMIT $2`+lock, db.ts(now), n)
		if err != nil {
			return fmt.Errorf("find unfinished transfers: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE transfers SET lease_owner = $1, lease_until = $2
				WHERE id = $3 AND lease_until < $4 AND outcome = ''`,
				owner, db.ts(leaseUntil), id, db.ts(now))
			if err != nil {
				return fmt.Errorf("claim transfer: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			t, err := scanTransfer(tx.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers WHERE id = $1`, id))
			if err != nil {
				return fmt.Errorf("read claimed transfer: %w", err)
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// ReleaseTransfer implements obx.TransferStore.
func (db *DB) ReleaseTransfer(ctx context.Context, id, owner string) error {
	_, err := db.q.ExecContext(ctx, `UPDATE transfers SET lease_until = $1 WHERE id = $2 AND lease_owner = $3`,
		db.ts(time.Unix(0, 0)), id, owner)
	if err != nil {
		return fmt.Errorf("release transfer: %w", err)
	}
	return nil
}

// Remittances implements obx.TransferStore. Transfer ids sort by creation
// time, so paging by id is keyset paging in time order; the cursor is the last
// id without its "T".
func (db *DB) Remittances(ctx context.Context, q obx.RemittanceQuery) (*obx.RemittancePage, error) {
	if q.Limit <= 0 || q.Limit > 25 {
		q.Limit = 25
	}
	if q.Cursor != "" && (len(q.Cursor) != 19 || !alnumLower(q.Cursor)) {
		return nil, obx.Errorf(obx.EINVALID, "befor_inquiry_trace_info is not a cursor this hub gave")
	}
	// transfers_remittances finds the account's transfers; the heap row
	// answers whether each completed.
	where := `tsp_id = $1 AND credit_account = $2 AND credit_bank = $3 AND kind = $4 AND outcome = '` + obx.TransferCompleted + `'
		AND updated_at >= $5 AND updated_at <= $6`
	args := []any{q.TSPID, q.AccountNum, q.BankCode, obx.TransferWithdraw, db.ts(q.From), db.ts(q.To)}
	page := &obx.RemittancePage{}
	if err := db.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM transfers WHERE `+where, args...).Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("count remittances: %w", err)
	}
	order, cmp := "ASC", ">"
	if !q.Ascending {
		order, cmp = "DESC", "<"
	}
	if q.Cursor != "" {
		where += ` AND id ` + cmp + ` $7`
		args = append(args, "T"+q.Cursor)
	}
	rows, err := db.q.QueryContext(ctx, `SELECT `+transferColumns+` FROM transfers WHERE `+where+
		` ORDER BY id `+order+` LIMIT `+strconv.Itoa(q.Limit+1), args...)
	if err != nil {
		return nil, fmt.Errorf("remittances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTransfer(rows)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.Next = page.Items[q.Limit-1].ID[1:]
	}
	return page, nil
}

func alnumLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'z') {
			return false
		}
	}
	return true
}

// Usage implements obx.TransferStore.
func (db *DB) Usage(ctx context.Context, tspID int64, seqNo, day string) (*obx.Usage, error) {
	var u obx.Usage
	rows, err := db.q.QueryContext(ctx, `SELECT kind, user_seq_no, used FROM limit_usage WHERE tsp_id = $1 AND day = $2
		AND (user_seq_no = '' OR user_seq_no = $3)`, tspID, day, seqNo)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, seq string
		var used int64
		if err := rows.Scan(&kind, &seq, &used); err != nil {
			return nil, err
		}
		switch {
		case kind == limitDeposit && seq == "":
			u.TSPDeposited = used
		case kind == limitWithdraw && seq == "":
			u.TSPWithdrawn = used
		case kind == limitWithdraw && seq == seqNo && seqNo != "":
			u.UserWithdrawn = used
		}
	}
	return &u, rows.Err()
}

// Settle implements obx.SettlementStore.
func (db *DB) Settle(ctx context.Context, day string, at time.Time) (*obx.Settlement, error) {
	var s *obx.Settlement
	err := db.transact(ctx, func(tx *sql.Tx) (err error) {
		s, _, err = db.closeCycle(ctx, tx, day, at)
		return err
	})
	return s, err
}

// closeCycle closes day's cycle inside tx, if still open, and returns its
// report and whether this call closed it. Closing takes the row lock first:
// movements committed before it are counted; ones that wait for it find the
// cycle closed and book into the next.
func (db *DB) closeCycle(ctx context.Context, tx *sql.Tx, day string, at time.Time) (*obx.Settlement, bool, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_cycles (day) VALUES ($1) ON CONFLICT DO NOTHING`, day); err != nil {
		return nil, false, fmt.Errorf("open cycle: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE settlement_cycles SET closed_at = $1 WHERE day = $2 AND closed_at IS NULL`, db.ts(at), day)
	if err != nil {
		return nil, false, fmt.Errorf("close cycle: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var report string
		if err := tx.QueryRowContext(ctx, `SELECT report FROM settlement_cycles WHERE day = $1`, day).Scan(&report); err != nil {
			return nil, false, fmt.Errorf("read report: %w", err)
		}
		s := &obx.Settlement{}
		return s, false, json.Unmarshal([]byte(report), s)
	}
	s := &obx.Settlement{Day: day, Positions: map[string]int64{}, ClosedAt: at.UTC()}
	if err := sumMovements(ctx, tx, day, s); err != nil {
		return nil, false, err
	}
	report, err := json.Marshal(s)
	if err != nil {
		return nil, false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE settlement_cycles SET report = $1 WHERE day = $2`, string(report), day); err != nil {
		return nil, false, fmt.Errorf("save report: %w", err)
	}
	return s, true, nil
}

// Contract implements obx.ContractStore.
func (db *DB) Contract(ctx context.Context, tspID int64) (*obx.Contract, error) {
	c, _, err := db.contract(ctx, tspID, nil)
	return c, err
}

// ContractWithAccount implements obx.ContractStore.
func (db *DB) ContractWithAccount(ctx context.Context, tspID int64, accountNum string) (*obx.Contract, *obx.ContractAccount, error) {
	return db.contract(ctx, tspID, &accountNum)
}

// contract reads a TSP's contract and, when accountNum is set, that contract
// account in the same query: a transfer needs both, and each read is a
// round trip.
func (db *DB) contract(ctx context.Context, tspID int64, accountNum *string) (*obx.Contract, *obx.ContractAccount, error) {
	num := "" // no contract account has an empty number: joins none
	if accountNum != nil {
		num = *accountNum
	}
	var row *contractRow
	var err error
	if db.contractReads != nil {
		row, err = db.contractReads.get(ctx, contractKey{tspID, num})
	} else {
		var dest []any
		dest, row = newContractRow()
		err = db.q.QueryRowContext(ctx, `SELECT `+contractColumns+`
			FROM contracts c `+contractJoins("$2")+`
			WHERE c.tsp_id = $1`, tspID, num, obx.GuaranteeIndividual).Scan(dest...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, obx.WrapError(obx.ENOTFOUND, "The TSP has no contract.", obx.ErrNoContract)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("contract: %w", err)
	}
	return db.finishContract(ctx, tspID, num, row)
}

// finishContract turns a row of contractColumns for contract account num
// ("" for none) into the contract and that account (nil if not registered),
// reading the banks that agreed an individual guarantee.
func (db *DB) finishContract(ctx context.Context, tspID int64, num string, row *contractRow) (*obx.Contract, *obx.ContractAccount, error) {
	c, hash, individual := row.c, row.hash, row.individual
	c.TSPID = tspID
	var account *obx.ContractAccount
	if row.bank.Valid && num != "" {
		account = &obx.ContractAccount{TSPID: tspID, AccountNum: num, BankCode: row.bank.String, HolderName: row.holder.String, Kind: row.kind.String}
	}
	c.PassPhraseHash = []byte(hash)
	if individual {
		// Withdrawals open bank by bank as each agrees its guarantee.
		c.WithdrawBanks = []string{}
		rows, err := db.q.QueryContext(ctx, `SELECT bank_code FROM bank_guarantees
			WHERE tsp_id = $1 AND agreed_at IS NOT NULL ORDER BY bank_code`, tspID)
		if err != nil {
			return nil, nil, fmt.Errorf("contract guarantees: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				return nil, nil, fmt.Errorf("contract guarantees: %w", err)
			}
			c.WithdrawBanks = append(c.WithdrawBanks, b)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("contract guarantees: %w", err)
		}
	}
	return &c, account, nil
}

// contractKey names a contract and one of its accounts ("" for none).
type contractKey struct {
	tsp int64
	num string
}

// contractColumns are a contract c's, its admission terms a's and its
// contract account ca's columns, as newContractRow scans them; the
// statement gives GuaranteeIndividual as $3.
const contractColumns = `c.main_bank, c.daily_withdraw_limit, c.user_daily_limit, c.per_transfer_limit,
	c.daily_deposit_limit, c.pass_phrase_hash, c.sub_businesses, COALESCE(a.guarantee = $3, FALSE),
	ca.bank_code, ca.holder_name, ca.kind`

// contractJoins joins contract c's admission terms a and its contract
// account ca numbered num (an SQL expression).
func contractJoins(num string) string {
	return `LEFT JOIN admission_contracts a ON a.tsp_id = c.tsp_id
		LEFT JOIN contract_accounts ca ON ca.tsp_id = c.tsp_id AND ca.account_num = ` + num
}

// contractRow is one row of contractColumns, as scanned.
type contractRow struct {
	c                  obx.Contract
	hash               string
	individual         bool
	bank, holder, kind sql.NullString
}

func newContractRow() ([]any, *contractRow) {
	r := &contractRow{}
	return []any{&r.c.MainBank, &r.c.DailyWithdrawLimit, &r.c.UserDailyLimit, &r.c.PerTransferLimit,
		&r.c.DailyDepositLimit, &r.hash, &r.c.SubBusinesses, &r.individual, &r.bank, &r.holder, &r.kind}, r
}

// newContractReads coalesces the reads of contracts: every transfer makes one.
func newContractReads(db *DB) *lookup[contractKey, *contractRow] {
	return newLookup(db, `SELECT q.n, `+contractColumns+`
		FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS q(tsp, num, n)
		JOIN contracts c ON c.tsp_id = q.tsp `+contractJoins("q.num"),
		func(keys []contractKey) []any {
			tsps, nums := make([]int64, len(keys)), make([]string, len(keys))
			for i, k := range keys {
				tsps[i], nums[i] = k.tsp, k.num
			}
			return []any{tsps, nums, obx.GuaranteeIndividual}
		},
		func(rows *sql.Rows, n *int) (*contractRow, error) {
			dest, r := newContractRow()
			return r, numbered{rows, n}.Scan(dest...)
		})
}

// SetContract implements obx.ContractStore.
func (db *DB) SetContract(ctx context.Context, c *obx.Contract) error {
	_, err := db.q.ExecContext(ctx, `
		INSERT INTO contracts (tsp_id, main_bank, daily_withdraw_limit, user_daily_limit, per_transfer_limit,
			daily_deposit_limit, pass_phrase_hash, sub_businesses, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tsp_id) DO UPDATE SET main_bank = excluded.main_bank,
			daily_withdraw_limit = excluded.daily_withdraw_limit, user_daily_limit = excluded.user_daily_limit,
			per_transfer_limit = excluded.per_transfer_limit, daily_deposit_limit = excluded.daily_deposit_limit,
			pass_phrase_hash = excluded.pass_phrase_hash, sub_businesses = excluded.sub_businesses,
			updated_at = excluded.updated_at`,
		c.TSPID, c.MainBank, c.DailyWithdrawLimit, c.UserDailyLimit, c.PerTransferLimit, c.DailyDepositLimit,
		string(c.PassPhraseHash), c.SubBusinesses, db.ts(db.Now()))
	if err != nil {
		return fmt.Errorf("set contract: %w", err)
	}
	return nil
}

// ContractAccount implements obx.ContractStore.
func (db *DB) ContractAccount(ctx context.Context, tspID int64, accountNum string) (*obx.ContractAccount, error) {
	a := obx.ContractAccount{TSPID: tspID, AccountNum: accountNum}
	err := db.q.QueryRowContext(ctx, `SELECT bank_code, holder_name, kind FROM contract_accounts
		WHERE tsp_id = $1 AND account_num = $2`, tspID, accountNum).Scan(&a.BankCode, &a.HolderName, &a.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "The contract account is not registered.", obx.ErrUnregisteredContract)
	}
	if err != nil {
		return nil, fmt.Errorf("contract account: %w", err)
	}
	return &a, nil
}

// AddContractAccount implements obx.ContractStore.
func (db *DB) AddContractAccount(ctx context.Context, a *obx.ContractAccount) error {
	return db.transact(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contract_accounts WHERE tsp_id = $1`, a.TSPID).Scan(&n); err != nil {
			return fmt.Errorf("count contract accounts: %w", err)
		}
		if n >= obx.MaxContractAccounts {
			return obx.Errorf(obx.ELIMIT, "A TSP may have at most %d contract accounts.", obx.MaxContractAccounts)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO contract_accounts (tsp_id, account_num, bank_code, holder_name, kind, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.TSPID, a.AccountNum, a.BankCode, a.HolderName, a.Kind, db.ts(db.Now()))
		if isUniqueViolation(err) {
			return obx.WrapError(obx.ECONFLICT, "The contract account is already registered.", err)
		}
		if err != nil {
			return fmt.Errorf("add contract account: %w", err)
		}
		return nil
	})
}

// SubBusiness implements obx.ContractStore.
func (db *DB) SubBusiness(ctx context.Context, tspID int64, num string) (*obx.SubBusiness, error) {
	s := obx.SubBusiness{TSPID: tspID, Num: num}
	err := db.q.QueryRowContext(ctx, `SELECT name, business_num, approved FROM sub_businesses WHERE tsp_id = $1 AND num = $2`,
		tspID, num).Scan(&s.Name, &s.BusinessNum, &s.Approved)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "No such sub-business.", obx.ErrSubBusiness)
	}
	if err != nil {
		return nil, fmt.Errorf("sub-business: %w", err)
	}
	return &s, nil
}

// PutSubBusiness implements obx.ContractStore.
func (db *DB) PutSubBusiness(ctx context.Context, s *obx.SubBusiness) error {
	_, err := db.q.ExecContext(ctx, `
		INSERT INTO sub_businesses (tsp_id, num, name, business_num, approved, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tsp_id, num) DO UPDATE SET name = excluded.name, business_num = excluded.business_num,
			approved = excluded.approved, updated_at = excluded.updated_at`,
		s.TSPID, s.Num, s.Name, s.BusinessNum, s.Approved, db.ts(db.Now()))
	if err != nil {
		return fmt.Errorf("put sub-business: %w", err)
	}
	return nil
}

// PayerAndContract implements obx.ContractStore. On PostgreSQL the account
// and the contract come from one coalesced query (a withdrawal's reads are
// round trips, each costing both sides more than the lookup). When either is
// missing that query finds nothing, and the two reads one by one give the
// error that names which.
func (db *DB) PayerAndContract(ctx context.Context, tspID int64, fintechUseNum, accountNum string) (*obx.Account, *obx.Contract, *obx.ContractAccount, error) {
	if h := obx.PayerHintFromContext(ctx); h != nil {
		// The account's own TSP is checked too, though the read joined it
		// by the token's: a payer is never another TSP's.
		if read, ok := h.Read.(*hintedPayer); ok && read.key == (payerKey{tspID, fintechUseNum, accountNum}) && read.row.account.TSPID == tspID {
			h.Read = nil // once: a later call reads afresh
			c, ca, err := db.finishContract(ctx, tspID, accountNum, read.row.contract)
			if err != nil {
				return nil, nil, nil, err
			}
			return read.row.account, c, ca, nil
		}
	}
	if db.payerReads != nil {
		r, err := db.payerReads.get(ctx, payerKey{tspID, fintechUseNum, accountNum})
		switch {
		case err == nil:
			c, ca, err := db.finishContract(ctx, tspID, accountNum, r.contract)
			if err != nil {
				return nil, nil, nil, err
			}
			return r.account, c, ca, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, nil, nil, fmt.Errorf("payer and contract: %w", err)
		}
	}
	a, err := db.Account(ctx, tspID, fintechUseNum)
	if err != nil {
		return nil, nil, nil, err
	}
	c, ca, err := db.ContractWithAccount(ctx, tspID, accountNum)
	if err != nil {
		return a, nil, nil, err
	}
	return a, c, ca, nil
}

// payerKey names a withdrawal's payer account by fintech use number and the
// TSP's contract account it is paid into.
type payerKey struct {
	tsp       int64
	fin, cntr string
}

type payerRow struct {
	account  *obx.Account
	contract *contractRow
}

// newPayerReads coalesces PayerAndContract's reads: every withdrawal by
// fintech use number makes one.
func newPayerReads(db *DB) *lookup[payerKey, *payerRow] {
	return newLookup(db, `SELECT q.n, `+columnsOf("acct", accountColumns)+`, `+contractColumns+`
		FROM unnest($1::bigint[], $2::text[], $4::text[]) WITH ORDINALITY AS q(tsp, fin, num, n)
		JOIN accounts acct ON acct.fintech_use_num = q.fin AND acct.tsp_id = q.tsp
		JOIN contracts c ON c.tsp_id = q.tsp `+contractJoins("q.num"),
		func(keys []payerKey) []any {
			tsps, fins, nums := make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys))
			for i, k := range keys {
				tsps[i], fins[i], nums[i] = k.tsp, k.fin, k.cntr
			}
			return []any{tsps, fins, obx.GuaranteeIndividual, nums}
		},
		func(rows *sql.Rows, n *int) (*payerRow, error) {
			r := &payerRow{account: &obx.Account{}}
			var contract []any
			contract, r.contract = newContractRow()
			return r, numbered{rows, n}.Scan(append(accountDest(r.account), contract...)...)
		})
}
