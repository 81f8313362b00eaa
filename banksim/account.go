package banksim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/obxhub/obx"
)

// dummyHash is compared against when a login does not exist, so that unknown
// logins and wrong passwords take the same time.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("obx-banksim-dummy"), bcrypt.MinCost)

// SignIn checks a sandbox login and returns its customer with their accounts.
// Returns EUNAUTHORIZED for an unknown login or a wrong password.
func (b *Bank) SignIn(ctx context.Context, login, password string) (*obx.BankCustomer, error) {
	if err := b.inject(ctx); err != nil {
		return nil, err
	}
	if login == "" || password == "" {
		return nil, obx.Errorf(obx.EUNAUTHORIZED, "Login and password are required.")
	}
	var ci, hash string
	err := b.rdb.QueryRowContext(ctx, `SELECT ci, password_hash FROM logins WHERE login = ?`, login).Scan(&ci, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, obx.Errorf(obx.EUNAUTHORIZED, "Wrong login or password.")
	} else if err != nil {
		return nil, b.dbError(ctx, "sign in", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, obx.Errorf(obx.EUNAUTHORIZED, "Wrong login or password.")
	}
	return b.customer(ctx, ci)
}

// Customer returns the customer with the given CI and the accounts they hold
// here. Returns ENOTFOUND if the bank has no such customer.
func (b *Bank) Customer(ctx context.Context, ci string) (*obx.BankCustomer, error) {
	if err := b.inject(ctx); err != nil {
		return nil, err
	}
	return b.customer(ctx, ci)
}

func (b *Bank) customer(ctx context.Context, ci string) (*obx.BankCustomer, error) {
	var c obx.BankCustomer
	err := b.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			SELECT ci, name, birth, gender, cell, email FROM customers WHERE ci = ?`, ci,
		).Scan(&c.CI, &c.Name, &c.BirthDate, &c.Gender, &c.CellNo, &c.Email)
		if errors.Is(err, sql.ErrNoRows) {
			return obx.Errorf(obx.ENOTFOUND, "The bank has no such customer.")
		} else if err != nil {
			return fmt.Errorf("select customer: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE holder_ci = ? ORDER BY opened, number`, ci)
		if err != nil {
			return fmt.Errorf("select accounts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, _, err := b.scanAccount(rows)
			if err != nil {
				return err
			}
			c.Accounts = append(c.Accounts, *a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Account returns one account. Returns a *obx.BankError 412 if there is none.
func (b *Bank) Account(ctx context.Context, accountNum string) (*obx.BankAccount, error) {
	if err := b.inject(ctx); err != nil {
		return nil, err
	}
	var a *obx.BankAccount
	err := b.read(ctx, func(tx *sql.Tx) (err error) {
		a, _, err = b.account(ctx, tx, accountNum)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Balance returns an account's balance. Returns a *obx.BankError 412 if there
// is no such account. Nothing is held, so Available equals Balance.
func (b *Bank) Balance(ctx context.Context, accountNum string) (*obx.Balance, error) {
	if err := b.inject(ctx); err != nil {
		return nil, err
	}
	var bal obx.Balance
	err := b.read(ctx, func(tx *sql.Tx) error {
		a, balance, err := b.account(ctx, tx, accountNum)
		if err != nil {
			return err
		}
		var last sql.NullInt64
		// The newest row by index order: one index seek.
		err = tx.QueryRowContext(ctx, `
			SELECT at FROM transactions WHERE account = ? ORDER BY at DESC, id DESC LIMIT 1`, accountNum,
		).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("select last transaction: %w", err)
		}
		bal = obx.Balance{Account: *a, Balance: balance, Available: balance, BankTranDay: tranDay(b.now())}
		if last.Valid {
			bal.LastTranOn = tranDay(time.UnixMicro(last.Int64))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &bal, nil
}

const accountColumns = `number, branch_code, holder_ci, holder_name, holder_type, type, product_name, currency, opened, matures, balance, closed`

// account reads one account and its balance inside tx.
func (b *Bank) account(ctx context.Context, tx querier, num string) (*obx.BankAccount, int64, error) {
	a, balance, err := b.scanAccount(tx.QueryRowContext(ctx, sqlSelectAccount, num))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, b.refuse(obx.BankRspNoAccount)
	}
	return a, balance, err
}

func (b *Bank) scanAccount(row interface{ Scan(...any) error }) (*obx.BankAccount, int64, error) {
	a := obx.BankAccount{BankCode: b.code}
	var balance int64
	err := row.Scan(&a.Number, &a.BranchCode, &a.HolderCI, &a.HolderName, &a.HolderType, &a.Type,
		&a.ProductName, &a.Currency, &a.OpenedOn, &a.MaturesOn, &balance, &a.Closed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, err
	} else if err != nil {
		return nil, 0, fmt.Errorf("scan account: %w", err)
	}
	return &a, balance, nil
}

// Status reports whether the bank serves. It reflects Down and Maintenance but
// is never delayed or failed by the other faults, so that health checks see
// the bank's state rather than the noise.
func (b *Bank) Status(ctx context.Context) (*obx.BankStatus, error) {
	f := b.Faults()
	now := b.now()
	switch {
	case f.Down:
		return &obx.BankStatus{Up: false, Message: "은행 장애"}, nil
	case f.maintenanceAt(now):
		return &obx.BankStatus{Up: false, Maintenance: true, MaintenanceUntil: f.MaintenanceUntil.UTC(), Message: "은행 점검 중"}, nil
	}
	return &obx.BankStatus{Up: true, Message: "정상"}, nil
}

// sameName compares holder names the way banks do for 예금주 checks: spaces
// are not significant.
func sameName(a, b string) bool {
	return strings.ReplaceAll(a, " ", "") == strings.ReplaceAll(b, " ", "")
}
