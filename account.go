package obx

import (
	"context"
	"time"
)

// User is a bank customer known to the hub.
type User struct {
	SeqNo     string // user_seq_no, 10 digits
	CI        string // connecting information; the identity across banks
	Name      string
	BirthDate string // YYYYMMDD or ""
	Gender    string // "M", "F" or ""
	CellNo    string
	Email     string
	CreatedAt time.Time
}

// Link states of a user with one TSP.
const (
	LinkActive   = "active"   // the user uses the TSP's service
	LinkUnlinked = "unlinked" // login consent withdrawn (user/unlink); tokens revoked
	LinkClosed   = "closed"   // the user left the TSP's service (user/close)
)

// Link is the relationship between a TSP and a user.
type Link struct {
	TSPID     int64
	UserSeqNo string
	State     string
	LinkedAt  time.Time
	ChangedAt time.Time
}

// Account registration states (account_state on the KFTC wire).
const (
	AccountStateActive    = "01"
	AccountStateCancelled = "09"
)

// Account is a bank account that a user registered with one TSP, referred to by
// its fintech use number. It carries the user's two consents.
type Account struct {
	FintechUseNum string // 24 digits, unique per (TSP, account)
	TSPID         int64
	UserSeqNo     string
	BankCode      string
	BranchCode    string
	Number        string // full account number: used to call the bank, never shown or logged
	Seq           string
	Alias         string
	HolderName    string
	HolderType    string
	Type          string
	State         string // AccountStateActive or AccountStateCancelled

	InquiryAgreedAt   time.Time // zero when there is no inquiry consent
	InquiryExpiresAt  time.Time
	TransferAgreedAt  time.Time // zero when there is no transfer consent
	TransferExpiresAt time.Time

	CreatedAt time.Time
}

// LogValue keeps the full account number out of logs.
func (a *Account) LogValue() string { return a.FintechUseNum }

// NumberMasked returns the account number with its last digits hidden.
func (a *Account) NumberMasked() string { return MaskAccountNum(a.Number) }

// Consent checks that the account may be used for scope (ScopeInquiry or
// ScopeTransfer) at now. It returns an EFORBIDDEN *Error wrapping
// ErrAccountCancelled, or ErrConsentMissing/ErrConsentExpired (inquiry) or
// ErrWithdrawConsentMissing/ErrWithdrawConsentExpired (transfer).
func (a *Account) Consent(scope string, now time.Time) error {
	if a.State == AccountStateCancelled {
		return errorWith(EFORBIDDEN, ErrAccountCancelled, "The account registration was cancelled.")
	}
	agreed, expires := a.InquiryAgreedAt, a.InquiryExpiresAt
	what, missing, expired := "inquiry", ErrConsentMissing, ErrConsentExpired
	if scope == ScopeTransfer {
		agreed, expires = a.TransferAgreedAt, a.TransferExpiresAt
		what, missing, expired = "withdrawal", ErrWithdrawConsentMissing, ErrWithdrawConsentExpired
	}
	if agreed.IsZero() {
		return errorWith(EFORBIDDEN, missing, "The user has not consented to "+what+" on this account.")
	}
	if !expires.IsZero() && !now.Before(expires) {
		return errorWith(EFORBIDDEN, expired, "The user's "+what+" consent on this account has expired.")
	}
	return nil
}

// Registration is the outcome of a completed consent flow: a user, at one bank,
// registering accounts with a TSP for the given scopes.
type Registration struct {
	TSPID         int64
	ClientUseCode string // the TSP's code; fintech use numbers embed it
	User          User   // matched by CI; SeqNo is filled in by the store
	BankCode      string
	Accounts      []BankAccount
	Inquiry       bool // register inquiry consent
	Transfer      bool // register transfer consent
	AgreedAt      time.Time
	ExpiresAt     time.Time // consent expiry
}

// AccountStore keeps users, their links with TSPs, and registered accounts.
// Every method is scoped by TSP: a TSP can never read or change another TSP's data.
type AccountStore interface {
	// Register applies a completed consent in one transaction: it creates the user
	// (by CI) if new, (re)activates the link, and creates or renews one account per
	// registered bank account, reusing its fintech use number if it had one. It
	// returns the user and the registered accounts.
	Register(ctx context.Context, reg *Registration) (*User, []*Account, error)
	// User returns a user by user_seq_no. ENOTFOUND if none.
	User(ctx context.Context, seqNo string) (*User, error)
	// UserByCI returns a user by CI. ENOTFOUND if none.
	UserByCI(ctx context.Context, ci string) (*User, error)
	// Link returns the link between a TSP and a user. ENOTFOUND if they were never linked.
	Link(ctx context.Context, tspID int64, seqNo string) (*Link, error)
	// Account returns a TSP's account by fintech use number. ENOTFOUND (wrapping
	// ErrUnknownFintechNum) if the TSP has no such account.
	Account(ctx context.Context, tspID int64, fintechUseNum string) (*Account, error)
	// AccountByNumber returns a TSP's registration of the account with this
	// bank code and number. ENOTFOUND (wrapping ErrUnknownFintechNum) if the
	// TSP has none.
	AccountByNumber(ctx context.Context, tspID int64, bankCode, accountNum string) (*Account, error)
	// Accounts lists a user's accounts with a TSP, oldest first.
	Accounts(ctx context.Context, tspID int64, seqNo string, includeCancelled bool) ([]*Account, error)
	// UpdateAlias sets an account's alias.
	UpdateAlias(ctx context.Context, tspID int64, fintechUseNum, alias string) (*Account, error)
	// CancelAccount withdraws the inquiry or transfer consent of an account; when
	// neither remains the account is cancelled. Cancelling an already-withdrawn
	// consent is not an error.
	CancelAccount(ctx context.Context, tspID int64, fintechUseNum, scope string, at time.Time) (*Account, error)
	// SetLinkState moves a link to LinkUnlinked or LinkClosed and, in the same
	// transaction, revokes every token the TSP's clients hold for the user; closing
	// also cancels all the user's accounts with the TSP.
	SetLinkState(ctx context.Context, tspID int64, seqNo, state string, at time.Time) error
}
