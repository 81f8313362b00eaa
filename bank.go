package obx

import (
	"context"
	"time"
)

// Bank is the hub's view of one participating bank. Two implementations exist:
// the in-process simulated bank (banksim) and the HTTP connector to a bank
// adapter (bankhttp). The hub wraps each with per-bank timeouts and a circuit
// breaker, so implementations need not.
//
// Errors: a refusal by the bank is a *BankError carrying the bank's standard
// response code (e.g. "412" no such account). EUNAVAILABLE wrapping ErrBankDown or
// ErrBankMaintenance when the bank does not serve; ETIMEOUT when it did not answer
// in time (the outcome of a debit or credit is then unknown and must be settled
// with Operation); EUNAUTHORIZED from SignIn on bad credentials.
type Bank interface {
	// Code returns the bank's standard institution code (bank_code_std), e.g. "088".
	Code() string
	// Name returns the bank's display name, e.g. "신한은행".
	Name() string

	// SignIn checks a customer's online-banking credentials (sandbox logins for
	// simulated banks) and returns the customer with the accounts they hold.
	SignIn(ctx context.Context, login, password string) (*BankCustomer, error)
	// Customer returns the customer with the given CI and the accounts they hold.
	Customer(ctx context.Context, ci string) (*BankCustomer, error)
	// Account returns one account's details and holder.
	Account(ctx context.Context, accountNum string) (*BankAccount, error)
	// Balance returns an account's balance.
	Balance(ctx context.Context, accountNum string) (*Balance, error)
	// Transactions returns one page of an account's history.
	Transactions(ctx context.Context, q TransactionQuery) (*TransactionPage, error)
	// Status reports whether the bank serves now.
	Status(ctx context.Context) (*BankStatus, error)

	// Debit takes op.Amount from op.AccountNum. It is idempotent by op.ID: a repeat
	// returns the first outcome and moves no money.
	Debit(ctx context.Context, op Operation) (*OperationResult, error)
	// Credit adds op.Amount to op.AccountNum, idempotent by op.ID.
	Credit(ctx context.Context, op Operation) (*OperationResult, error)
	// Operation returns the outcome of an earlier Debit or Credit by its id.
	// ENOTFOUND if the bank has no record of an operation with that id; a
	// recorded refusal is returned with Status OperationRejected.
	Operation(ctx context.Context, id string) (*OperationResult, error)
}

// BankError is a refusal by a bank, carrying its standard response code
// (bank_rsp_code, KFTC 별첨: "412" no such account, "453" insufficient balance …).
type BankError struct {
	BankCode string // the bank that refused
	RspCode  string // three-character bank response code
	Message  string // the bank's message, safe to show
}

// Error implements the error interface.
func (e *BankError) Error() string {
	return "bank " + e.BankCode + " refused: " + e.RspCode + " " + e.Message
}

// Standard bank response codes used across the hub.
const (
	BankRspOK                  = "000"
	BankRspNoAccount           = "412"
	BankRspClosedAccount       = "415"
	BankRspSuspendedAccount    = "420"
	BankRspInsufficientBalance = "453"
	BankRspRealNameMismatch    = "463"
	BankRspHolderMismatch      = "815"
	BankRspOther               = "499"
)

// BankCustomer is a bank's customer as the bank knows them.
type BankCustomer struct {
	CI        string // 88-character connecting information, the same at every bank
	Name      string
	BirthDate string // YYYYMMDD
	Gender    string // "M" or "F"
	CellNo    string
	Email     string
	Accounts  []BankAccount
}

// Holder types (account_holder_type).
const (
	HolderPerson   = "P"
	HolderBusiness = "B"
)

// Account types (account_type).
const (
	AccountDemand     = "1" // 수시입출금
	AccountSavings    = "2" // 예적금
	AccountSecurities = "6" // 수익증권
)

// BankAccount is one account as its bank describes it.
type BankAccount struct {
	BankCode    string
	BranchCode  string // bank_code_sub, 7 characters
	Number      string // full account number; never logged, masked on the wire
	Seq         string // 회차번호, usually ""
	HolderName  string
	HolderType  string // HolderPerson or HolderBusiness
	HolderCI    string
	Type        string // AccountDemand, …
	ProductName string
	Currency    string
	OpenedOn    string // YYYYMMDD
	MaturesOn   string // YYYYMMDD or ""
	Closed      bool
}

// LogValue keeps full account numbers out of logs.
func (a BankAccount) LogValue() string { return a.BankCode + ":" + MaskAccountNum(a.Number) }

// MaskAccountNum hides the last three characters of an account number, as KFTC's
// account_num_masked does ("010211588***").
func MaskAccountNum(n string) string {
	if len(n) <= 3 {
		return "***"
	}
	return n[:len(n)-3] + "***"
}

// Balance is an account's balance. Amounts are in minor units of Currency.
type Balance struct {
	Account     BankAccount
	Balance     int64 // may be negative (overdraft)
	Available   int64
	LastTranOn  string // YYYYMMDD or ""
	BankTranDay string // the bank's business date, YYYYMMDD
}

// Inquiry directions (inquiry_type).
const (
	DirectionAll = "A"
	DirectionIn  = "I"
	DirectionOut = "O"
)

// TransactionQuery asks for one page of an account's history.
type TransactionQuery struct {
	AccountNum string
	From, To   time.Time // inclusive bounds
	Direction  string    // DirectionAll, DirectionIn or DirectionOut
	Ascending  bool      // oldest first when true
	Cursor     string    // "" for the first page; else the previous page's NextCursor
	Limit      int       // at most 25 on the KFTC wire
}

// TransactionPage is one page of history.
type TransactionPage struct {
	Balance    int64 // the account's current balance
	Items      []Transaction
	NextCursor string // "" when there is no next page; at most 20 characters
}

// Transaction is one entry of an account's history.
type Transaction struct {
	At           time.Time
	In           bool   // deposit (입금) when true, withdrawal (출금) otherwise
	Type         string // 거래구분 set by the bank: 현금, 대체, 급여, 타행환 …
	PrintContent string // 통장인자내용
	Amount       int64
	AfterBalance int64
	BranchName   string
}

// BankStatus is a bank's state as seen by the hub.
type BankStatus struct {
	Up               bool
	Maintenance      bool
	MaintenanceUntil time.Time // zero unless in maintenance
	Message          string
}

// Operation is an instruction to move money on one account at one bank.
type Operation struct {
	ID           string // the hub's operation id; the idempotency key at the bank
	AccountNum   string
	Amount       int64
	Currency     string
	PrintContent string // printed on the account's statement
	Counterparty string // name shown to the account holder
	HolderName   string // when set, the bank refuses (815) if it differs from the holder
}

// Operation outcomes.
const (
	OperationApplied  = "applied"
	OperationRejected = "rejected"
)

// OperationResult is the outcome of a Debit or Credit.
type OperationResult struct {
	ID           string
	Status       string // OperationApplied or OperationRejected
	RspCode      string // bank response code; BankRspOK when applied
	Message      string
	AfterBalance int64
	BankTranDay  string // YYYYMMDD, the bank's business date
	HolderName   string
}

// BankDirectory finds participating banks by code. The hub's directory wraps
// each bank with per-bank timeouts and a circuit breaker.
type BankDirectory interface {
	// Bank returns the bank with code. ENOTFOUND wrapping ErrUnknownBank if none.
	Bank(code string) (Bank, error)
	// Banks returns every bank, ordered by code.
	Banks() []Bank
}
