package banksim

import (
	"context"
	"database/sql"
	"fmt"
)

// querier is what the ledger's statements run on: a *sql.Tx, or a writer
// transaction with the hot statements prepared (ptx).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Hot statements of an operation, prepared once on the writer connection.
// Parsing them on every operation was a sixth of the hub's CPU under load
// (obx bench transfers).
var hotStatements = []string{
	sqlSelectOperation, sqlSelectAccount, sqlUpdateBalance, sqlDebitBalance, sqlCreditBalance,
	sqlInsertTransaction, sqlInsertOperation,
}

const (
	sqlSelectOperation = `SELECT id, kind, account, amount, status, rsp_code, message, after_balance, holder_name,
			bank_tran_day, transaction_id
		FROM operations WHERE id = ?`
	sqlSelectAccount     = `SELECT ` + accountColumns + ` FROM accounts WHERE number = ?`
	sqlUpdateBalance     = `UPDATE accounts SET balance = ? WHERE number = ?`
	sqlInsertTransaction = `INSERT INTO transactions (account, at, inout, type, print_content, amount, after_balance, branch_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertOperation = `INSERT INTO operations (id, kind, account, amount, status, rsp_code, message, after_balance,
			holder_name, bank_tran_day, transaction_id, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// sqlDebitBalance and sqlCreditBalance move the money of an operation
	// that needs no holder-name check in one statement: they match only an
	// open account in the operation's currency (any, when ?3 is '') that
	// can take it, and return the holder's name and the new balance.
	sqlDebitBalance = `UPDATE accounts SET balance = balance - ?1
		WHERE number = ?2 AND closed = 0 AND balance >= ?1 AND (?3 = '' OR currency = ?3)
		RETURNING holder_name, balance`
	sqlCreditBalance = `UPDATE accounts SET balance = balance + ?1
		WHERE number = ?2 AND closed = 0 AND (?3 = '' OR currency = ?3)
		RETURNING holder_name, balance`
)

// prepareHot prepares hotStatements on the writer. It runs before any writer
// transaction is open: with the writer's single connection taken, preparing
// would wait for it forever.
func (b *Bank) prepareHot(ctx context.Context) error {
	b.hot = make(map[string]*sql.Stmt, len(hotStatements))
	for _, q := range hotStatements {
		s, err := b.wdb.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		b.hot[q] = s
	}
	return nil
}

// ptx is a writer transaction that runs the hot statements prepared.
type ptx struct {
	*sql.Tx
	hot map[string]*sql.Stmt
}

func (b *Bank) prepared(tx *sql.Tx) ptx { return ptx{tx, b.hot} }

func (t ptx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.hot[query]; s != nil {
		return t.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t ptx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.hot[query]; s != nil {
		return t.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
