package obx

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Transfer kinds.
const (
	// TransferWithdraw debits a consenting customer's account and credits the
	// TSP's contract (collection) account: 출금이체.
	TransferWithdraw = "withdraw"
	// TransferDeposit debits the TSP's contract (payout) account and credits a
	// recipient's account: 입금이체.
	TransferDeposit = "deposit"
	// TransferReturn returns a mistaken deposit: it debits the recipient and
	// credits the TSP's account, once the recipient agreed (자금반환청구).
	TransferReturn = "return"
)

// Transfer states. A transfer moves forward only:
//
//	accepted → debiting → debited → crediting → completed
//	                    ↘ failed               ↘ reversing → failed (reversed)
//
// "debiting", "crediting" and "reversing" mean the bank was (or is about to
// be) asked and its answer is not recorded yet: after a crash or a lost
// answer, the same operation id is asked again, which the bank answers
// without applying twice. The engine records a new transfer directly as
// debiting and a debit's outcome directly as crediting, so a withdrawal
// commits three times (accept, after the debit, after the credit); accepted
// and debited remain valid states to resume from.
const (
	TransferAccepted  = "accepted"
	TransferDebiting  = "debiting"
	TransferDebited   = "debited"
	TransferCrediting = "crediting"
	TransferCompleted = "completed"
	TransferReversing = "reversing"
	TransferFailed    = "failed"
)

// TransferFinal reports whether state is final.
func TransferFinal(state string) bool { return state == TransferCompleted || state == TransferFailed }

// TransferLeg is one side of a transfer: the account debited or credited.
type TransferLeg struct {
	BankCode      string
	AccountNum    string // full number; never logged, masked on the wire
	FintechUseNum string // the TSP's number for the account, or ""
	HolderName    string // known holder (from the bank or the registration)
	PrintContent  string // printed on this account's statement
	// The bank's answer to this leg, once known.
	RspCode     string
	RspMessage  string
	BankTranDay string
}

// Transfer is one money movement: a durable state machine advanced by
// idempotent bank operations whose ids derive from the transfer's ID.
type Transfer struct {
	ID          string // the hub's id, e.g. "T20261123…"; operation ids derive from it
	TSPID       int64
	Kind        string // TransferWithdraw or TransferDeposit
	BankTranID  string
	TranDay     string // KST date (YYYYMMDD) of the request: bank_tran_id is unique per TSP per day
	LimitDay    string // KST date by the hub's clock whose limits the transfer consumed
	RequestHash string // digest of the request: a repeated bank_tran_id with another hash is refused
	Amount      int64  // KRW
	UserSeqNo   string // the customer of a withdrawal; "" for deposits
	Debit       TransferLeg
	Credit      TransferLeg
	NameCheck   bool   // refuse a credit whose holder differs from Credit.HolderName
	Echo        []byte // kind-specific: for a return, the claimed deposit's transfer id
	// CreditAfterBalance is the credited account's balance right after the
	// credit, as its bank reported it.
	CreditAfterBalance int64
	State              string
	Reversed           bool   // the debit was returned after the credit failed
	RspCode            string // final: the bank response code that decided the outcome
	RspMessage         string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Operation ids of a transfer's legs. Fixed per transfer, so a retry after a
// crash or timeout asks the bank about the same operation.
func (t *Transfer) DebitOpID() string   { return t.ID + "-D" }
func (t *Transfer) CreditOpID() string  { return t.ID + "-C" }
func (t *Transfer) ReverseOpID() string { return t.ID + "-R" }

// LogValue keeps account numbers out of logs.
func (t *Transfer) LogValue() string { return t.ID + " " + t.Kind + " " + t.State }

// Contract is a TSP's contract with the center: its main bank and limits.
// Amounts are KRW; a zero limit means none.
type Contract struct {
	TSPID              int64
	MainBank           string
	DailyWithdrawLimit int64 // all of the TSP's withdrawals per KST day (covered by its guarantee)
	UserDailyLimit     int64 // one customer's withdrawals through this TSP per KST day
	PerTransferLimit   int64 // one withdrawal
	DailyDepositLimit  int64 // all deposits per KST day
	PassPhraseHash     []byte
	SubBusinesses      bool // the TSP resells its payment module: transfers must name an approved sub-business
	// WithdrawBanks, under individual bank guarantees (rules.md §5.3), are
	// the banks that agreed theirs: withdrawals from accounts at other banks
	// stay closed while inquiries and deposits already work. Nil when the
	// center guarantee covers every bank.
	WithdrawBanks []string
}

// WithdrawalsOpen reports whether the TSP may withdraw from accounts at bank.
func (c *Contract) WithdrawalsOpen(bank string) bool {
	return c.WithdrawBanks == nil || slices.Contains(c.WithdrawBanks, bank)
}

// Contract account kinds.
const (
	ContractCollection = "collection" // receives withdrawals
	ContractPayout     = "payout"     // pays deposits
	ContractBoth       = "both"
)

// ContractAccount is one of a TSP's (at most 100) accounts at its main bank.
type ContractAccount struct {
	TSPID      int64
	BankCode   string
	AccountNum string
	HolderName string
	Kind       string
}

// MaxContractAccounts is the most contract accounts one TSP may have (rules §4.6).
const MaxContractAccounts = 100

// SubBusiness is a merchant that uses a TSP's payment module (하위사업자).
type SubBusiness struct {
	TSPID       int64
	Num         string // sub_frnc_num
	Name        string
	BusinessNum string // 10-digit business registration number
	Approved    bool
	// State is the center's review of the sub-business (SubPending, …);
	// "" for one registered before the workflow, where Approved says it all.
	State string
}

// Sub-business review states (rules.md §6: each needs prior approval).
const (
	SubPending  = "pending"
	SubApproved = "approved"
	SubRejected = "rejected"
)

// Sentinels of money movement, mapped to KFTC codes in package kftc.
var (
	ErrDuplicateTranID      = errors.New("bank_tran_id reused with another request")
	ErrUnregisteredContract = errors.New("contract account not registered")
	ErrPassPhrase           = errors.New("wrong pass phrase")
	ErrTSPDailyLimit        = errors.New("TSP daily withdrawal limit")
	ErrPerTransferLimit     = errors.New("per-transfer limit")
	ErrUserDailyLimit       = errors.New("user daily withdrawal limit")
	ErrDepositDailyLimit    = errors.New("TSP daily deposit limit")
	ErrSubBusiness          = errors.New("sub-business missing or not approved")
	ErrNoContract           = errors.New("no contract")
	ErrTransferNotFound     = errors.New("no such transfer")
	ErrInProgress           = errors.New("transfer in progress")
	ErrHolderInfoFormat     = errors.New("holder info does not fit its type")
	ErrAlreadyClaimed       = errors.New("deposit already claimed")
	// ErrWithdrawBankNotAgreed refuses a withdrawal from an account at a bank
	// that has not yet agreed the TSP's individual guarantee (rules.md §5.3).
	ErrWithdrawBankNotAgreed = errors.New("withdrawing bank has not agreed a guarantee")
)

// LimitUse is what a transfer consumes of its TSP's and customer's limits on
// its day, checked and consumed in the transaction that accepts it.
type LimitUse struct {
	TSPDaily  int64 // limit on the TSP's total; 0 = none
	UserDaily int64 // limit on the customer's total; 0 = none
	Deposit   bool  // counts against the deposit limit instead of the withdrawal limits
}

// Settlement is one settlement cycle's report: each bank's multilateral net
// position (positive: the bank receives), which always sum to zero.
type Settlement struct {
	Day       string // KST business day, YYYYMMDD
	Positions map[string]int64
	Movements int64 // how many interbank movements the cycle holds
	Total     int64 // their gross amount
	ClosedAt  time.Time
}

// SettlementStore closes settlement cycles.
type SettlementStore interface {
	// Settle closes day's cycle, if still open, and returns its report. A
	// closed cycle never changes: movements completing later go to the next
	// open cycle. Settling a closed day returns the same report.
	Settle(ctx context.Context, day string, at time.Time) (*Settlement, error)
}

// Usage is what a TSP (and one of its customers) used of a day's limits.
type Usage struct {
	TSPWithdrawn  int64
	UserWithdrawn int64
	TSPDeposited  int64
}

// RemittanceQuery asks for one page of the remittances into a TSP's account.
type RemittanceQuery struct {
	TSPID      int64
	BankCode   string
	AccountNum string
	From, To   time.Time // completion time, inclusive
	Ascending  bool
	Cursor     string // "" or the previous page's Next
	Limit      int
}

// RemittancePage is one page of remittances: completed withdrawals.
type RemittancePage struct {
	Items []*Transfer
	Total int    // how many remittances the period holds
	Next  string // "" when this is the last page; at most 20 characters
}

// TransferStore keeps transfers, their limits and the interbank movements
// they cause.
type TransferStore interface {
	// AcceptTransfer records t in its state (TransferAccepted when empty, or
	// TransferDebiting when the caller asks the bank right away), leased to owner until
	// leaseUntil, and consumes its amount from the day's limits in the same
	// transaction, returning nil. If the TSP already used t.BankTranID on
	// t.TranDay, nothing is recorded and it returns the earlier transfer: with
	// a nil error when the request is the same (a client's retry), with
	// ECONFLICT wrapping ErrDuplicateTranID when it differs. ELIMIT wrapping
	// ErrTSPDailyLimit, ErrUserDailyLimit or ErrDepositDailyLimit when the
	// amount does not fit. For a TransferReturn, whose Echo names the
	// original deposit's transfer id, ECONFLICT wrapping ErrAlreadyClaimed if
	// another claim of that deposit is not failed. When it records t, used is
	// the TSP's and the customer's use of the day's limits counting t.
	AcceptTransfer(ctx context.Context, t *Transfer, lim LimitUse, owner string, leaseUntil time.Time) (prior *Transfer, used Usage, err error)
	// SaveTransfer records t's state and legs if owner still holds its lease.
	// Moving to TransferFailed gives the amount back to the limits; moving to
	// TransferCompleted records the interbank movement; both in the same
	// transaction. ECONFLICT if the lease is lost.
	SaveTransfer(ctx context.Context, t *Transfer, owner string) error
	// Transfer returns a TSP's transfer by bank_tran_id and day. ENOTFOUND
	// wrapping ErrTransferNotFound if none.
	Transfer(ctx context.Context, tspID int64, bankTranID, day string) (*Transfer, error)
	// TransferByID returns a TSP's transfer by the hub's id. ENOTFOUND
	// wrapping ErrTransferNotFound if the TSP has none.
	TransferByID(ctx context.Context, tspID int64, id string) (*Transfer, error)
	// ClaimTransfers leases up to n unfinished transfers whose lease expired
	// to owner until leaseUntil, so that no two replicas drive one transfer.
	ClaimTransfers(ctx context.Context, owner string, now, leaseUntil time.Time, n int) ([]*Transfer, error)
	// ReleaseTransfer gives up owner's lease so another replica may continue.
	ReleaseTransfer(ctx context.Context, id, owner string) error
	// Remittances returns one page of the completed withdrawals into q's
	// account, keyset-paged by transfer id. EINVALID for a malformed cursor.
	Remittances(ctx context.Context, q RemittanceQuery) (*RemittancePage, error)
	// Usage returns what the TSP (and the user, when seqNo is set) used of
	// day's limits.
	Usage(ctx context.Context, tspID int64, seqNo, day string) (*Usage, error)
}

// ContractStore keeps TSPs' contracts, contract accounts and sub-businesses.
type ContractStore interface {
	// Contract returns a TSP's contract. ENOTFOUND wrapping ErrNoContract.
	Contract(ctx context.Context, tspID int64) (*Contract, error)
	// SetContract creates or replaces a TSP's contract.
	SetContract(ctx context.Context, c *Contract) error
	// ContractWithAccount returns a TSP's contract like Contract and, in the
	// same read, its contract account accountNum, or a nil account if that
	// is not registered.
	ContractWithAccount(ctx context.Context, tspID int64, accountNum string) (*Contract, *ContractAccount, error)
	// PayerAndContract returns, in one read where the store can, what a
	// withdrawal by fintech use number reads before it is accepted: the
	// payer's account as AccountStore.Account returns it, and the contract
	// with contract account accountNum as ContractWithAccount does, with
	// their errors. When only the contract's read fails, the account comes
	// back with its error, so that the caller can check the account first.
	PayerAndContract(ctx context.Context, tspID int64, fintechUseNum, accountNum string) (*Account, *Contract, *ContractAccount, error)
	// ContractAccount returns one of a TSP's contract accounts. ENOTFOUND
	// wrapping ErrUnregisteredContract.
	ContractAccount(ctx context.Context, tspID int64, accountNum string) (*ContractAccount, error)
	// AddContractAccount registers a contract account. ELIMIT past
	// MaxContractAccounts; ECONFLICT if it exists.
	AddContractAccount(ctx context.Context, a *ContractAccount) error
	// SubBusiness returns a TSP's sub-business by number. ENOTFOUND wrapping ErrSubBusiness.
	SubBusiness(ctx context.Context, tspID int64, num string) (*SubBusiness, error)
	// PutSubBusiness creates or updates a sub-business.
	PutSubBusiness(ctx context.Context, s *SubBusiness) error
}

// PayerHint names, ahead of authentication, the payer and contract account a
// withdrawal by fintech use number is about to read, so that a store can read
// them in the same query as the caller's bearer token: every such withdrawal
// reads both, and on PostgreSQL each read was a round trip of its own. The
// store reads the payer only as the token's own TSP's account (the hint
// carries no TSP), keeps what it read in Read, and hands it to the first
// PayerAndContract of the same TSP, fintech use number and contract account;
// any other call reads afresh. A hint is used by one request's goroutine.
type PayerHint struct {
	FintechUseNum, CntrAccountNum string
	// Read is the store's: what it read with the token, until used.
	Read any
}

type payerHintKey struct{}

// NewContextWithPayerHint returns ctx carrying h.
func NewContextWithPayerHint(ctx context.Context, h *PayerHint) context.Context {
	return context.WithValue(ctx, payerHintKey{}, h)
}

// PayerHintFromContext returns the hint ctx carries, or nil.
func PayerHintFromContext(ctx context.Context) *PayerHint {
	h, _ := ctx.Value(payerHintKey{}).(*PayerHint)
	return h
}
