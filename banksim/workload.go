package banksim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/obxhub/obx"
)

// This file holds helpers for workload tests that run a bank as its own
// process: they prepare or audit the bank's ledger through a Bank opened on
// the same file while that process is stopped.

// AddDemandAccounts gives every demo customer who banks here perCustomer more
// demand accounts (수시입출금), each opened today with a deposit of balance,
// and returns them. The demo seeds only a few accounts per bank; a workload
// that needs many accounts in play adds these. Their numbers follow from the
// customer and the bank, so a repeat call finds them and adds nothing.
func (b *Bank) AddDemandAccounts(ctx context.Context, perCustomer int, balance int64) ([]obx.BankAccount, error) {
	if perCustomer < 0 || balance <= 0 || balance > MaxAmount {
		return nil, obx.Errorf(obx.EINVALID, "Need a non-negative count and a balance between 1 and %d.", MaxAmount)
	}
	now := b.now().UTC()
	var out []obx.BankAccount
	err := b.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT ci, name FROM customers ORDER BY ci`)
		if err != nil {
			return fmt.Errorf("select customers: %w", err)
		}
		type person struct{ ci, name string }
		var people []person
		for rows.Next() {
			var p person
			if err := rows.Scan(&p.ci, &p.name); err != nil {
				rows.Close()
				return fmt.Errorf("scan customer: %w", err)
			}
			people = append(people, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select customers: %w", err)
		}
		for _, p := range people {
			r := newDRBG(0, "workload", b.code, p.ci)
			for i := range perCustomer {
				a := obx.BankAccount{
					BankCode: b.code, BranchCode: b.code + demoBranches[0].code, HolderName: p.name,
					HolderType: obx.HolderPerson, HolderCI: p.ci, Type: obx.AccountDemand, Currency: "KRW",
					ProductName: "워크로드 입출금통장 " + strconv.Itoa(i+1), OpenedOn: tranDay(now),
				}
				// Draw until the number is free or already this account's: the
				// draws are the same on every call, so a repeat finds its own.
				for {
					a.Number = accountNumber(b.code, r)
					var holder, product string
					err := tx.QueryRowContext(ctx, `SELECT holder_ci, product_name FROM accounts WHERE number = ?`, a.Number).
						Scan(&holder, &product)
					if errors.Is(err, sql.ErrNoRows) {
						if err := insertOpened(ctx, tx, a, balance, now.UnixMicro()); err != nil {
							return err
						}
						break
					}
					if err != nil {
						return fmt.Errorf("select account: %w", err)
					}
					if holder == p.ci && product == a.ProductName {
						break
					}
				}
				out = append(out, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertOpened inserts an account with its opening deposit, keeping the
// ledger's invariant that a balance is the sum of its history.
func insertOpened(ctx context.Context, tx *sql.Tx, a obx.BankAccount, balance, atMicro int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Number, a.BranchCode, a.HolderCI, a.HolderName, a.HolderType, a.Type, a.ProductName, a.Currency,
		a.OpenedOn, a.MaturesOn, balance, a.Closed)
	if err != nil {
		return fmt.Errorf("insert account: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO transactions (account, at, inout, type, print_content, amount, after_balance, branch_name)
		VALUES (?, ?, 'I', '대체', '신규', ?, ?, ?)`, a.Number, atMicro, balance, balance, demoBranches[0].name)
	if err != nil {
		return fmt.Errorf("insert opening deposit: %w", err)
	}
	return nil
}

// SetAccountClosed closes an account (or reopens it) as a branch would: the
// balance stays, and debits and credits are refused with 415 from then on.
// Workloads close accounts that a TSP registered earlier, so that credits are
// refused and the hub must reverse the debit. Returns a *obx.BankError 412 if
// there is no such account.
func (b *Bank) SetAccountClosed(ctx context.Context, accountNum string, closed bool) error {
	return b.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET closed = ? WHERE number = ?`, closed, accountNum)
		if err != nil {
			return fmt.Errorf("close account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return b.refuse(obx.BankRspNoAccount)
		}
		return nil
	})
}

// OperationRecord is one operation in a bank's ledger: the idempotency record
// of a Debit or Credit, applied or refused.
type OperationRecord struct {
	ID           string
	Credit       bool // a Credit; a Debit otherwise
	AccountNum   string
	Amount       int64
	Status       string // obx.OperationApplied or obx.OperationRejected
	RspCode      string
	AfterBalance int64 // the balance right after an applied operation
}

// Operations returns every operation the bank has recorded, in the order it
// recorded them, so that a test can audit the ledger after a run.
func (b *Bank) Operations(ctx context.Context) ([]OperationRecord, error) {
	var out []OperationRecord
	err := b.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, kind, account, amount, status, rsp_code, after_balance
			FROM operations ORDER BY created, id`)
		if err != nil {
			return fmt.Errorf("select operations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r OperationRecord
			var kind string
			if err := rows.Scan(&r.ID, &kind, &r.AccountNum, &r.Amount, &r.Status, &r.RspCode, &r.AfterBalance); err != nil {
				return fmt.Errorf("scan operation: %w", err)
			}
			r.Credit = kind == kindCredit
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return slices.Clip(out), nil
}
