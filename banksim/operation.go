package banksim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/obxhub/obx"
)

// Operation kinds, as stored.
const (
	kindDebit  = "debit"
	kindCredit = "credit"
)

// Debit takes op.Amount from op.AccountNum. It is idempotent by op.ID: a repeat
// returns the first outcome, applied or refused, and moves nothing.
//
// Refusals are *obx.BankError: 412 no such account, 415 closed account, 815
// when op.HolderName is set and is not the holder's name, 453 when the balance
// is short. They are recorded as the operation's outcome, so Operation reports
// them and repeats return them. Returns EINVALID for a malformed operation and
// ECONFLICT when op.ID was used for a different instruction.
func (b *Bank) Debit(ctx context.Context, op obx.Operation) (*obx.OperationResult, error) {
	return b.apply(ctx, kindDebit, op)
}

// Credit adds op.Amount to op.AccountNum, idempotent by op.ID like Debit. It is
// refused with 412, 415 or 815 as Debit is.
func (b *Bank) Credit(ctx context.Context, op obx.Operation) (*obx.OperationResult, error) {
	return b.apply(ctx, kindCredit, op)
}

// Operation returns the recorded outcome of an earlier Debit or Credit: Status
// obx.OperationApplied, or obx.OperationRejected with the refusal's RspCode.
// Returns ENOTFOUND if the bank never processed an operation with that id, as
// after a timeout that struck before the bank applied it.
func (b *Bank) Operation(ctx context.Context, id string) (*obx.OperationResult, error) {
	if err := b.inject(ctx); err != nil {
		return nil, err
	}
	var (
		rec   *opRecord
		found bool
	)
	err := b.read(ctx, func(tx *sql.Tx) (err error) {
		rec, found, err = selectOperation(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, obx.Errorf(obx.ENOTFOUND, "The bank has no operation with this id.")
	}
	return rec.result(), nil
}

// maxOpIDLen bounds operation ids; the hub's are far shorter.
const maxOpIDLen = 64

// MaxAmount is the largest amount one Debit or Credit moves: KFTC's tran_amt
// is N(12). It also keeps balances far from int64 overflow.
const MaxAmount int64 = 999_999_999_999

func (b *Bank) apply(ctx context.Context, kind string, op obx.Operation) (*obx.OperationResult, error) {
	switch {
	case op.ID == "" || len(op.ID) > maxOpIDLen:
		return nil, obx.Errorf(obx.EINVALID, "Operation id must have 1 to %d characters.", maxOpIDLen)
	case op.AccountNum == "":
		return nil, obx.Errorf(obx.EINVALID, "Account number is required.")
	case op.Amount <= 0 || op.Amount > MaxAmount:
		return nil, obx.Errorf(obx.EINVALID, "Amount must be between 1 and %d.", MaxAmount)
	}
	f, err := b.injectOp(ctx)
	if err != nil {
		return nil, err
	}

	// In a shared commit the operation is taken to be new, as nearly every
	// one is, and not looked up first: a repeated id then fails the insert of
	// its operation row (the primary key), the group is rerun one operation
	// at a time, and alone the lookup runs and returns the first outcome. The
	// lookup was a sixth of a busy bank's work per operation.
	var rec *opRecord
	err = b.writeGrouped(ctx, func(ctx context.Context, tx *groupTx) error {
		if tx.alone {
			prev, found, err := selectOperation(ctx, tx, op.ID)
			if err != nil {
				return err
			}
			if found {
				if prev.kind != kind || prev.account != op.AccountNum || prev.amount != op.Amount {
					return obx.Errorf(obx.ECONFLICT, "Operation id %s was already used for another instruction.", op.ID)
				}
				rec = prev
				return nil
			}
		}
		var err error
		rec, err = b.execute(ctx, tx, kind, op)
		return err
	})
	if err != nil {
		return nil, err
	}
	if f == faultLostResponse {
		b.logger.Info("banksim lost response", "operation_id", op.ID, "kind", kind, "status", rec.status)
		return nil, b.hang(ctx)
	}
	if rec.status == obx.OperationRejected {
		return nil, &obx.BankError{BankCode: b.code, RspCode: rec.rspCode, Message: rec.message}
	}
	return rec.result(), nil
}

// execute decides a new operation inside tx: it either refuses it or moves
// the money, and in both cases adds to tx the ledger rows that record it (the
// outcome under op.ID, and the transaction when money moved), written when
// the group commits.
func (b *Bank) execute(ctx context.Context, tx *groupTx, kind string, op obx.Operation) (*opRecord, error) {
	now := b.now().UTC()
	rec := &opRecord{
		id: op.ID, kind: kind, account: op.AccountNum, amount: op.Amount,
		status: obx.OperationApplied, rspCode: obx.BankRspOK, message: rspMessages[obx.BankRspOK],
		bankTranDay: tranDay(now),
	}
	moved, err := b.move(ctx, tx, kind, op, rec)
	if err != nil {
		return nil, err
	}
	if !moved {
		if err := b.decide(ctx, tx, kind, op, rec); err != nil {
			return nil, err
		}
	}

	row := &ledgerRow{rec: rec, created: now.UnixMicro()}
	if rec.status == obx.OperationApplied {
		inout := "I"
		if kind == kindDebit {
			inout = "O"
		}
		print := op.PrintContent
		if print == "" {
			print = op.Counterparty
		}
		if print == "" {
			print = "오픈뱅킹"
		}
		row.moved = &movedRow{inout: inout, print: print}
	}
	tx.add(row)
	b.logger.Debug("banksim operation", "operation_id", rec.id, "kind", kind, "status", rec.status, "bank_rsp_code", rec.rspCode)
	return rec, nil
}

// move applies an operation that needs no holder-name check in one statement,
// the common case, and reports whether it did. It does nothing when the
// account is missing, closed, in another currency or short of the amount:
// decide then reads the account to tell which.
func (b *Bank) move(ctx context.Context, tx querier, kind string, op obx.Operation, rec *opRecord) (bool, error) {
	if op.HolderName != "" {
		return false, nil
	}
	q := sqlCreditBalance
	if kind == kindDebit {
		q = sqlDebitBalance
	}
	err := tx.QueryRowContext(ctx, q, op.Amount, op.AccountNum, op.Currency).Scan(&rec.holderName, &rec.afterBalance)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("move balance: %w", err)
	}
	return true, nil
}

// decide reads the account of an operation that move did not apply and
// either refuses the operation in rec or, when every check passes (as with a
// matching holder name), applies it.
func (b *Bank) decide(ctx context.Context, tx querier, kind string, op obx.Operation, rec *opRecord) error {
	a, balance, err := b.account(ctx, tx, op.AccountNum)
	var be *obx.BankError
	switch {
	case errors.As(err, &be):
		rec.refuse(be.RspCode)
	case err != nil:
		return err
	case a.Closed:
		rec.refuse(obx.BankRspClosedAccount)
	case op.HolderName != "" && !sameName(op.HolderName, a.HolderName):
		rec.refuse(obx.BankRspHolderMismatch)
	case op.Currency != "" && op.Currency != a.Currency:
		return obx.Errorf(obx.EINVALID, "The account holds %s, not %s.", a.Currency, op.Currency)
	case kind == kindDebit && balance < op.Amount:
		rec.refuse(obx.BankRspInsufficientBalance)
	}
	if a != nil {
		rec.holderName = a.HolderName
	}
	if rec.status != obx.OperationApplied {
		return nil
	}
	rec.afterBalance = balance + op.Amount
	if kind == kindDebit {
		rec.afterBalance = balance - op.Amount
	}
	if _, err := tx.ExecContext(ctx, sqlUpdateBalance, rec.afterBalance, op.AccountNum); err != nil {
		return fmt.Errorf("update balance: %w", err)
	}
	return nil
}

// opRecord is one row of the operations table.
type opRecord struct {
	id, kind, account       string
	amount                  int64
	status, rspCode         string
	message                 string
	afterBalance            int64
	holderName, bankTranDay string
	transactionID           sql.NullInt64
}

func (r *opRecord) refuse(rspCode string) {
	r.status, r.rspCode, r.message = obx.OperationRejected, rspCode, rspMessages[rspCode]
}

func (r *opRecord) result() *obx.OperationResult {
	return &obx.OperationResult{
		ID: r.id, Status: r.status, RspCode: r.rspCode, Message: r.message,
		AfterBalance: r.afterBalance, BankTranDay: r.bankTranDay, HolderName: r.holderName,
	}
}

// selectOperation returns the operation with id, and whether there is one.
func selectOperation(ctx context.Context, tx querier, id string) (*opRecord, bool, error) {
	var r opRecord
	err := tx.QueryRowContext(ctx, sqlSelectOperation, id).Scan(&r.id, &r.kind, &r.account, &r.amount, &r.status, &r.rspCode, &r.message, &r.afterBalance,
		&r.holderName, &r.bankTranDay, &r.transactionID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("select operation: %w", err)
	}
	return &r, true, nil
}
