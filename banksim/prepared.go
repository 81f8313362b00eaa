package banksim

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
}

const (
	sqlSelectOperation = `SELECT id, kind, account, amount, status, rsp_code, message, after_balance, holder_name,
			bank_tran_day, transaction_id
		FROM operations WHERE id = ?`
	sqlSelectAccount   = `SELECT ` + accountColumns + ` FROM accounts WHERE number = ?`
	sqlUpdateBalance   = `UPDATE accounts SET balance = ? WHERE number = ?`
	sqlLastTransaction = `SELECT coalesce(max(id), 0) FROM transactions`
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

// The columns of the group's ledger inserts (see groupTx), and so the
// arguments each row takes.
const (
	transactionColumns = "id, account, at, inout, type, print_content, amount, after_balance, branch_name"
	operationColumns   = "id, kind, account, amount, status, rsp_code, message, after_balance, " +
		"holder_name, bank_tran_day, transaction_id, created"
)

var (
	insertTransactionArgs = strings.Count(transactionColumns, ",") + 1
	insertOperationArgs   = strings.Count(operationColumns, ",") + 1
)

// insertRows returns an INSERT of n rows into table's columns.
func insertRows(table, columns string, n int) string {
	row := "(?" + strings.Repeat(", ?", strings.Count(columns, ",")) + ")"
	return "INSERT INTO " + table + " (" + columns + ") VALUES " + row + strings.Repeat(", "+row, n-1)
}

// prepareHot prepares hotStatements on the writer, and the group's inserts
// for every size a group can have (about 30 ms of a bank's start on the
// development VM). It runs before any writer transaction is open: with the
// writer's single connection taken, preparing would wait for it forever.
func (b *Bank) prepareHot(ctx context.Context) error {
	prepare := func(q string) (*sql.Stmt, error) {
		s, err := b.wdb.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		b.prepares = append(b.prepares, s)
		return s, nil
	}
	b.hot = make(map[string]*sql.Stmt, len(hotStatements))
	for _, q := range hotStatements {
		s, err := prepare(q)
		if err != nil {
			return err
		}
		b.hot[q] = s
	}
	var err error
	if b.lastTransaction, err = prepare(sqlLastTransaction); err != nil {
		return err
	}
	b.insertTransactions = make([]*sql.Stmt, maxGroup)
	b.insertOperations = make([]*sql.Stmt, maxGroup)
	for n := 1; n <= maxGroup; n++ {
		if b.insertTransactions[n-1], err = prepare(insertRows("transactions", transactionColumns, n)); err != nil {
			return err
		}
		if b.insertOperations[n-1], err = prepare(insertRows("operations", operationColumns, n)); err != nil {
			return err
		}
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
