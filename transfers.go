package obx

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Transfers moves money. It accepts withdrawals and deposits (checking consent,
// contract, sub-business and limits, then recording the transfer durably before
// any bank is asked), drives each transfer through its banks with idempotent
// operations, and recovers transfers that a crash, a timeout or a lost answer
// left unfinished.
type Transfers struct {
	Store     TransferStore
	Contracts ContractStore
	Accounts  AccountStore
	Banks     BankDirectory
	Now       func() time.Time
	Logger    *slog.Logger
	// Owner names this replica in leases; unique per process.
	Owner string
	// Lease is how long a replica may drive a transfer before another may
	// take it over (default 30 s).
	Lease time.Duration
}

func (s *Transfers) lease() time.Duration {
	if s.Lease <= 0 {
		return 30 * time.Second
	}
	return s.Lease
}

// kst is Korea Standard Time: bank_tran_id is unique per TSP per KST day.
var kst = time.FixedZone("KST", 9*60*60)

// KSTDay returns t's date in KST as YYYYMMDD.
func KSTDay(t time.Time) string { return t.In(kst).Format("20060102") }

// dayOr returns day, or now's KST date when day is empty. The day a client
// gives (its tran_dtime's date) keys idempotency, so that a retry of the same
// request just after midnight finds the original instead of moving money again.
func dayOr(day string, now time.Time) string {
	if day != "" {
		return day
	}
	return KSTDay(now)
}

// newTransferID returns a transfer id that sorts by creation time and cannot
// be guessed: "T", the creation time in microseconds as 11 base-36 digits, and
// 8 random hex digits. Twenty characters in all, so that the id without its
// "T" fits KFTC's AN(20) paging cursor.
func newTransferID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	ts := strconv.FormatInt(now.UnixMicro(), 36)
	return "T" + strings.Repeat("0", max(11-len(ts), 0)) + ts + hex.EncodeToString(b[:])
}

// RequestHash digests the fields that identify a transfer request, so that a
// repeated bank_tran_id can be told apart: same fields, a client's retry;
// other fields, a reuse the hub refuses.
func RequestHash(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashPassPhrase returns the stored form of a TSP's deposit pass phrase
// (wd_pass_phrase): its SHA-256 digest in hex. The phrase is a long random
// value the center issues, so a digest suffices to keep it out of the database.
func HashPassPhrase(phrase string) []byte {
	sum := sha256.Sum256([]byte(phrase))
	return []byte(hex.EncodeToString(sum[:]))
}

// SameHolderName reports whether two account holder names are the same name,
// ignoring spaces and letter case as banks' name checks do.
func SameHolderName(a, b string) bool {
	norm := func(s string) string {
		return strings.ToUpper(strings.Join(strings.Fields(s), ""))
	}
	return norm(a) == norm(b)
}

// SubBusinessRef is what a transfer says about the sub-business it serves.
type SubBusinessRef struct {
	Name, Num, BusinessNum string
}

// WithdrawRequest is a withdrawal transfer: from the customer's registered
// account to the TSP's contract account.
type WithdrawRequest struct {
	BankTranID     string
	TranDay        string // KST date of the request's tran_dtime: with BankTranID, the idempotency key
	FintechUseNum  string // the customer's account by the TSP's number, or (sa only)
	WdBankCode     string // by bank code, account number and user
	WdAccountNum   string
	UserSeqNo      string
	CntrAccountNum string
	Amount         int64
	DpsPrint       string // printed on the TSP's account
	WdPrint        string // printed on the customer's account
	Sub            SubBusinessRef
	Hash           string // RequestHash of the wire request
	Echo           []byte
}

// DepositRequest is one item of a deposit transfer: from the TSP's contract
// account to a recipient's account.
type DepositRequest struct {
	BankTranID     string
	TranDay        string // KST date of the request's tran_dtime
	CntrAccountNum string
	PassPhrase     string
	FintechUseNum  string // the recipient by the TSP's fintech number, or
	BankCode       string // by bank code and account number (acnt_num)
	AccountNum     string
	HolderName     string // the recipient name to check, when NameCheck
	NameCheck      bool
	Amount         int64
	WdPrint        string // printed on the TSP's account
	DpsPrint       string // printed on the recipient's account
	Sub            SubBusinessRef
	Hash           string
	Echo           []byte
}

// checkSub enforces the sub-business rule (rules §6): a TSP that resells its
// payment module must name an approved sub-business on every transfer.
func (s *Transfers) checkSub(ctx context.Context, c *Contract, ref SubBusinessRef) error {
	if !c.SubBusinesses {
		return nil
	}
	if ref.Num == "" || ref.Name == "" || ref.BusinessNum == "" {
		return Errorf(EINVALID, "sub_frnc_name, sub_frnc_num and sub_frnc_business_num are required for this TSP")
	}
	sb, err := s.Contracts.SubBusiness(ctx, c.TSPID, ref.Num)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return errorWith(EFORBIDDEN, ErrSubBusiness, "The sub-business is not registered for this TSP.")
		}
		return err
	}
	if !sb.Approved || sb.BusinessNum != ref.BusinessNum {
		return errorWith(EFORBIDDEN, ErrSubBusiness, "The sub-business is not approved for this TSP.")
	}
	return nil
}

// errUnregisteredContract refuses a contract account the TSP has not
// registered, as ContractStore.ContractAccount does.
func errUnregisteredContract() error {
	return errorWith(ENOTFOUND, ErrUnregisteredContract, "The contract account is not registered.")
}

// Withdrawal is a withdrawal with what its answer reports besides the
// transfer itself, so that answering needs no further reads.
type Withdrawal struct {
	*Transfer
	// Account is the customer's account as registered with the TSP.
	Account *Account
	// LimitLeft is what remains of today's withdrawal limits after the
	// transfer: the smaller of the TSP's and the customer's, or -1 when
	// neither has a limit.
	LimitLeft int64
}

// Withdraw accepts a withdrawal and drives it as far as the banks allow within
// ctx. It returns the transfer in its current state: final, or still moving
// (the caller answers "in progress" and recovery finishes it). A repeated
// request returns the earlier transfer and moves no money.
func (s *Transfers) Withdraw(ctx context.Context, p *Principal, req WithdrawRequest) (*Withdrawal, error) {
	if err := requireScope(p, ScopeTransfer, ScopeSA); err != nil {
		return nil, err
	}
	if req.Amount <= 0 {
		return nil, Errorf(EINVALID, "tran_amt must be positive")
	}
	fin := req.FintechUseNum
	if fin == "" {
		// By account number: self-authenticating TSPs only, and the account
		// must be registered to the named user with this TSP.
		if !p.HasScope(ScopeSA) {
			return nil, errorWith(EFORBIDDEN, ErrScope, "Withdrawals by account number need the sa scope.")
		}
		a, err := s.Accounts.AccountByNumber(ctx, p.TSPID, req.WdBankCode, req.WdAccountNum)
		if err != nil {
			return nil, err
		}
		if a.UserSeqNo != req.UserSeqNo {
			return nil, errorWith(EFORBIDDEN, ErrWrongUser, "The account is registered to another user.")
		}
		fin = a.FintechUseNum
	}
	a, c, cntr, err := s.Contracts.PayerAndContract(ctx, p.TSPID, fin, req.CntrAccountNum)
	if a == nil {
		return nil, err
	}
	svc := &Service{Accounts: s.Accounts, Banks: s.Banks, Now: s.Now}
	if err := svc.mayUse(ctx, p, a, ScopeTransfer); err != nil {
		return nil, err
	}
	if err != nil { // the contract's
		return nil, err
	}
	if cntr == nil {
		return nil, errUnregisteredContract()
	}
	if cntr.Kind == ContractPayout {
		return nil, errorWith(EFORBIDDEN, ErrUnregisteredContract, "The contract account is not a collection account.")
	}
	if !c.WithdrawalsOpen(a.BankCode) {
		return nil, errorWith(EFORBIDDEN, ErrWithdrawBankNotAgreed, "The account's bank has not agreed a withdrawal guarantee with this TSP.")
	}
	if err := s.checkSub(ctx, c, req.Sub); err != nil {
		return nil, err
	}
	if c.PerTransferLimit > 0 && req.Amount > c.PerTransferLimit {
		return nil, errorWith(ELIMIT, ErrPerTransferLimit, "The amount exceeds the per-transfer limit.")
	}
	now := s.Now()
	t := &Transfer{
		ID: newTransferID(now), TSPID: p.TSPID, Kind: TransferWithdraw,
		BankTranID: req.BankTranID, TranDay: dayOr(req.TranDay, now), LimitDay: KSTDay(now), RequestHash: req.Hash, Amount: req.Amount,
		UserSeqNo: a.UserSeqNo, Echo: req.Echo,
		Debit: TransferLeg{BankCode: a.BankCode, AccountNum: a.Number, FintechUseNum: a.FintechUseNum,
			HolderName: a.HolderName, PrintContent: req.WdPrint},
		Credit: TransferLeg{BankCode: cntr.BankCode, AccountNum: cntr.AccountNum, HolderName: cntr.HolderName,
			PrintContent: req.DpsPrint},
	}
	t, used, err := s.accept(ctx, t, LimitUse{TSPDaily: c.DailyWithdrawLimit, UserDaily: c.UserDailyLimit})
	if err != nil {
		return nil, err
	}
	tspLeft, userLeft := leftOf(c.DailyWithdrawLimit, used.TSPWithdrawn), leftOf(c.UserDailyLimit, used.UserWithdrawn)
	if used == (Usage{}) {
		// A repeated request: what is left now.
		if tspLeft, userLeft, err = s.Remaining(ctx, p.TSPID, t.UserSeqNo); err != nil {
			return nil, err
		}
	}
	left := tspLeft
	if userLeft >= 0 && (left < 0 || userLeft < left) {
		left = userLeft
	}
	return &Withdrawal{Transfer: t, Account: a, LimitLeft: left}, nil
}

// leftOf is what remains of limit after used, or -1 for no limit (0).
func leftOf(limit, used int64) int64 {
	if limit <= 0 {
		return -1
	}
	return max(limit-used, 0)
}

// Deposit accepts one deposit item and drives it like Withdraw.
func (s *Transfers) Deposit(ctx context.Context, p *Principal, req DepositRequest) (*Transfer, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, err
	}
	if req.Amount <= 0 {
		return nil, Errorf(EINVALID, "tran_amt must be positive")
	}
	c, cntr, err := s.Contracts.ContractWithAccount(ctx, p.TSPID, req.CntrAccountNum)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(HashPassPhrase(req.PassPhrase), c.PassPhraseHash) != 1 {
		return nil, errorWith(EFORBIDDEN, ErrPassPhrase, "wd_pass_phrase does not match.")
	}
	if cntr == nil {
		return nil, errUnregisteredContract()
	}
	if cntr.Kind == ContractCollection {
		return nil, errorWith(EFORBIDDEN, ErrUnregisteredContract, "The contract account is not a payout account.")
	}
	if err := s.checkSub(ctx, c, req.Sub); err != nil {
		return nil, err
	}
	credit := TransferLeg{BankCode: req.BankCode, AccountNum: req.AccountNum, HolderName: req.HolderName, PrintContent: req.DpsPrint}
	if req.FintechUseNum != "" {
		a, err := s.Accounts.Account(ctx, p.TSPID, req.FintechUseNum)
		if err != nil {
			return nil, err
		}
		if a.State == AccountStateCancelled {
			return nil, errorWith(EFORBIDDEN, ErrAccountCancelled, "The account registration was cancelled.")
		}
		credit.BankCode, credit.AccountNum, credit.FintechUseNum, credit.HolderName = a.BankCode, a.Number, a.FintechUseNum, a.HolderName
	} else if req.HolderName == "" {
		return nil, Errorf(EINVALID, "account_holder_name is required")
	}
	bank, err := s.Banks.Bank(credit.BankCode)
	if err != nil {
		return nil, err
	}
	if req.FintechUseNum == "" {
		// A recipient named by number is checked with the bank before any
		// money moves, so that a wrong account or name is refused up front
		// rather than debited and reversed.
		acct, err := bank.Account(ctx, credit.AccountNum)
		if err != nil {
			return nil, err
		}
		if acct.Closed {
			return nil, &BankError{BankCode: credit.BankCode, RspCode: BankRspClosedAccount, Message: "해약 계좌"}
		}
		if req.NameCheck && !SameHolderName(acct.HolderName, req.HolderName) {
			return nil, &BankError{BankCode: credit.BankCode, RspCode: BankRspHolderMismatch, Message: "예금주명 불일치"}
		}
		credit.HolderName = acct.HolderName
	}
	now := s.Now()
	t := &Transfer{
		ID: newTransferID(now), TSPID: p.TSPID, Kind: TransferDeposit,
		BankTranID: req.BankTranID, TranDay: dayOr(req.TranDay, now), LimitDay: KSTDay(now), RequestHash: req.Hash, Amount: req.Amount, Echo: req.Echo,
		Debit: TransferLeg{BankCode: cntr.BankCode, AccountNum: cntr.AccountNum, HolderName: cntr.HolderName,
			PrintContent: req.WdPrint},
		Credit:    credit,
		NameCheck: req.NameCheck,
	}
	t, _, err = s.accept(ctx, t, LimitUse{TSPDaily: c.DailyDepositLimit, Deposit: true})
	return t, err
}

// accept records t (or finds the request's earlier transfer) and drives it.
// t is recorded already in state debiting: the debit is asked right after,
// and a crash in between leaves it to recovery, which asks the bank first.
// That saves a commit per transfer without a step going unrecorded.
//
// used is the limits' use counting t, zero when t is a repeated request.
func (s *Transfers) accept(ctx context.Context, t *Transfer, lim LimitUse) (_ *Transfer, used Usage, err error) {
	if t.State == "" {
		t.State = TransferDebiting
	}
	prior, used, err := s.Store.AcceptTransfer(ctx, t, lim, s.Owner, s.Now().Add(s.lease()))
	if err != nil {
		return prior, Usage{}, err
	}
	if prior != nil {
		return prior, Usage{}, nil // a retry: the original outcome, no money moves
	}
	s.drive(ctx, t, false)
	if !TransferFinal(t.State) {
		// Hand the transfer to recovery at once rather than at lease expiry.
		s.Store.ReleaseTransfer(context.WithoutCancel(ctx), t.ID, s.Owner)
	}
	return t, used, nil
}

// Result returns a TSP's transfer by bank_tran_id and KST day.
func (s *Transfers) Result(ctx context.Context, p *Principal, bankTranID, day string) (*Transfer, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, err
	}
	return s.Store.Transfer(ctx, p.TSPID, bankTranID, day)
}

// Remaining returns what is left today of the TSP's withdrawal limit and, when
// seqNo is set, of the customer's.
func (s *Transfers) Remaining(ctx context.Context, tspID int64, seqNo string) (tspLeft, userLeft int64, err error) {
	c, err := s.Contracts.Contract(ctx, tspID)
	if err != nil {
		return 0, 0, err
	}
	u, err := s.Store.Usage(ctx, tspID, seqNo, KSTDay(s.Now()))
	if err != nil {
		return 0, 0, err
	}
	tspLeft, userLeft = -1, -1 // no limit
	if c.DailyWithdrawLimit > 0 {
		tspLeft = max(c.DailyWithdrawLimit-u.TSPWithdrawn, 0)
	}
	if c.UserDailyLimit > 0 {
		userLeft = max(c.UserDailyLimit-u.UserWithdrawn, 0)
	}
	return tspLeft, userLeft, nil
}

// DayLimit answers user_remain_amt: today's withdrawal limit and what was used
// of it, for the token's customer (or, with the sa scope, the user seqNo
// names): the customer's own limit when the contract sets one, else the
// TSP's.
func (s *Transfers) DayLimit(ctx context.Context, p *Principal, seqNo string) (limit, used int64, err error) {
	if p.UserSeqNo != "" {
		if seqNo != "" && seqNo != p.UserSeqNo {
			return 0, 0, errorWith(EFORBIDDEN, ErrWrongUser, "user_seq_no does not match the token's user.")
		}
		seqNo = p.UserSeqNo
	} else if !p.HasScope(ScopeSA) {
		return 0, 0, errorWith(EFORBIDDEN, ErrScope, "This API needs a user token or the sa scope.")
	}
	c, err := s.Contracts.Contract(ctx, p.TSPID)
	if err != nil {
		return 0, 0, err
	}
	u, err := s.Store.Usage(ctx, p.TSPID, seqNo, KSTDay(s.Now()))
	if err != nil {
		return 0, 0, err
	}
	if seqNo != "" && c.UserDailyLimit > 0 {
		return c.UserDailyLimit, u.UserWithdrawn, nil
	}
	return c.DailyWithdrawLimit, u.TSPWithdrawn, nil
}

// drive advances t until it is final or a bank's answer is unknown. Every
// state is saved before the bank is asked and its answer saved after, so a
// crash at any point leaves a state from which the same operation is asked
// again. recovering is set when t was claimed after an interruption: an
// operation in doubt is then first looked up at the bank.
func (s *Transfers) drive(ctx context.Context, t *Transfer, recovering bool) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	save := func(state string) bool {
		t.State = state
		if err := s.Store.SaveTransfer(context.WithoutCancel(ctx), t, s.Owner); err != nil {
			if ErrorCode(err) == ECONFLICT {
				log.Warn("transfer not saved: another driver has it", "transfer_id", t.ID, "state", state, "err", err)
			} else {
				// Recovery asks the bank again once the lease expires.
				log.Error("transfer not saved; recovery will resume it", "transfer_id", t.ID, "state", state, "err", err)
			}
			return false
		}
		return true
	}
	for !TransferFinal(t.State) {
		switch t.State {
		case TransferAccepted:
			if !save(TransferDebiting) {
				return
			}
		case TransferDebiting:
			res, err := s.apply(ctx, t.Debit.BankCode, t.DebitOpID(), recovering, func(b Bank) (*OperationResult, error) {
				return b.Debit(ctx, Operation{ID: t.DebitOpID(), AccountNum: t.Debit.AccountNum, Amount: t.Amount,
					Currency: "KRW", PrintContent: t.Debit.PrintContent, Counterparty: t.Credit.HolderName})
			})
			if res == nil {
				log.Info("debit in doubt", "transfer_id", t.ID, "bank_code", t.Debit.BankCode, "err", err)
				return
			}
			t.Debit.RspCode, t.Debit.RspMessage, t.Debit.BankTranDay = res.RspCode, res.Message, res.BankTranDay
			if res.Status != OperationApplied {
				t.RspCode, t.RspMessage = res.RspCode, res.Message
				if !save(TransferFailed) {
					return
				}
				continue
			}
			// The credit follows at once, unsaved: the transfer row, written
			// when it was accepted, already names the credit's account, amount
			// and operation id, and the bank applies an operation id once. A
			// crash from here on leaves the transfer debiting; recovery then
			// finds the debit at the bank and sends the same credit (or finds
			// it too). Saving crediting here would cost every withdrawal a
			// write and a wait to record what recovery can ask the bank.
			t.State = TransferCrediting
		case TransferDebited:
			if !save(TransferCrediting) {
				return
			}
		case TransferCrediting:
			holder := ""
			if t.NameCheck {
				holder = t.Credit.HolderName
			}
			res, err := s.apply(ctx, t.Credit.BankCode, t.CreditOpID(), recovering, func(b Bank) (*OperationResult, error) {
				return b.Credit(ctx, Operation{ID: t.CreditOpID(), AccountNum: t.Credit.AccountNum, Amount: t.Amount,
					Currency: "KRW", PrintContent: t.Credit.PrintContent, Counterparty: t.Debit.HolderName, HolderName: holder})
			})
			if res == nil {
				log.Info("credit in doubt", "transfer_id", t.ID, "bank_code", t.Credit.BankCode, "err", err)
				// Record the debit, so that operators see where the transfer
				// stopped; recovery would find it at the bank all the same.
				save(TransferCrediting)
				return
			}
			t.Credit.RspCode, t.Credit.RspMessage, t.Credit.BankTranDay = res.RspCode, res.Message, res.BankTranDay
			t.CreditAfterBalance = res.AfterBalance
			if res.HolderName != "" {
				t.Credit.HolderName = res.HolderName
			}
			if res.Status == OperationApplied {
				t.RspCode, t.RspMessage = BankRspOK, ""
				if !save(TransferCompleted) {
					return
				}
				continue
			}
			// The credit failed for good: give the debited money back.
			t.RspCode, t.RspMessage = res.RspCode, res.Message
			if !save(TransferReversing) {
				return
			}
		case TransferReversing:
			res, err := s.apply(ctx, t.Debit.BankCode, t.ReverseOpID(), recovering, func(b Bank) (*OperationResult, error) {
				return b.Credit(ctx, Operation{ID: t.ReverseOpID(), AccountNum: t.Debit.AccountNum, Amount: t.Amount,
					Currency: "KRW", PrintContent: "이체취소", Counterparty: t.Credit.HolderName})
			})
			if res == nil || res.Status != OperationApplied {
				// Returning money to the account it came from is refused only if
				// that account closed meanwhile; keep trying and tell operators.
				log.Error("reversal not applied; retrying", "transfer_id", t.ID, "bank_code", t.Debit.BankCode, "err", err)
				return
			}
			t.Reversed = true
			if !save(TransferFailed) {
				return
			}
		default:
			log.Error("transfer in unknown state", "transfer_id", t.ID, "state", t.State)
			return
		}
	}
}

// apply asks bank code to perform one operation and returns its definite
// outcome: applied or rejected. It returns nil when the outcome is unknown (a
// timeout, a lost answer, a bank that is down). When recovering, it first
// asks the bank whether it already has the operation; either way, sending the
// operation again is safe, since the bank applies an operation id once.
func (s *Transfers) apply(ctx context.Context, code, opID string, recovering bool, send func(Bank) (*OperationResult, error)) (*OperationResult, error) {
	b, err := s.Banks.Bank(code)
	if err != nil {
		return nil, err
	}
	if recovering {
		res, err := b.Operation(ctx, opID)
		if err == nil {
			return res, nil
		}
		if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
	}
	res, err := send(b)
	var be *BankError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &be):
		return &OperationResult{ID: opID, Status: OperationRejected, RspCode: be.RspCode, Message: be.Message}, nil
	case ErrorCode(err) == EINVALID || ErrorCode(err) == ECONFLICT:
		// The bank refused the operation itself (not the money): final.
		return &OperationResult{ID: opID, Status: OperationRejected, RspCode: BankRspOther, Message: ErrorMessage(err)}, nil
	}
	return nil, err
}

// Recover claims unfinished transfers whose lease expired and drives them,
// until none is left or ctx ends. It returns how many it drove. Every replica
// runs it; the store's claims keep two replicas off one transfer.
func (s *Transfers) Recover(ctx context.Context, batch int) (int, error) {
	n := 0
	for ctx.Err() == nil {
		now := s.Now()
		ts, err := s.Store.ClaimTransfers(ctx, s.Owner, now, now.Add(s.lease()), batch)
		if err != nil {
			return n, err
		}
		if len(ts) == 0 {
			return n, nil
		}
		// A transfer still in doubt after driving keeps its lease until the
		// lease expires, so that a bank that is down is not asked in a tight loop.
		for _, t := range ts {
			s.drive(ctx, t, true)
			n++
		}
	}
	return n, ctx.Err()
}

// Holder identity types (account_holder_info_type) of a real-name inquiry.
const (
	HolderInfoBirth    = " " // 생년월일 6자리 (YYMMDD)
	HolderInfoResident = "1" // 주민등록번호 (13 digits, YYMMDD…)
	HolderInfoSkip     = "N" // 검사생략: no identity check
)

// RealName answers a real-name inquiry (계좌실명조회): the account's holder at
// its bank, and, unless info type is HolderInfoSkip, whether the holder's
// identity matches info. Only the birth date can be checked against what the
// bank knows (types " ", "1" and "4" carry it); for other types the bank
// answers 499, since a check it cannot make must not pass. A mismatch is a
// *BankError 463.
func (s *Transfers) RealName(ctx context.Context, p *Principal, bankCode, accountNum, infoType, info string) (*BankAccount, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, err
	}
	bank, err := s.Banks.Bank(bankCode)
	if err != nil {
		return nil, err
	}
	acct, err := bank.Account(ctx, accountNum)
	if err != nil {
		return nil, err
	}
	if acct.Closed {
		return nil, &BankError{BankCode: bankCode, RspCode: BankRspClosedAccount, Message: "해약 계좌"}
	}
	switch infoType {
	case HolderInfoSkip:
		return acct, nil
	case HolderInfoBirth, HolderInfoResident, "4":
		c, err := bank.Customer(ctx, acct.HolderCI)
		if err != nil || len(c.BirthDate) != 8 {
			return nil, &BankError{BankCode: bankCode, RspCode: BankRspOther, Message: "실명번호 확인 불가"}
		}
		if info[:6] != c.BirthDate[2:] {
			return nil, &BankError{BankCode: bankCode, RspCode: BankRspRealNameMismatch, Message: "실명번호 상이"}
		}
		return acct, nil
	}
	return nil, &BankError{BankCode: bankCode, RspCode: BankRspOther, Message: "실명번호 확인 불가"}
}

// Remittances returns one page of the completed withdrawals credited to the
// TSP's contract account at bankCode (remit_list: who paid the TSP), in the
// period, oldest first when asc; cursor is "" or the previous page's next.
func (s *Transfers) Remittances(ctx context.Context, p *Principal, q RemittanceQuery) (*RemittancePage, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, err
	}
	c, err := s.Contracts.ContractAccount(ctx, p.TSPID, q.AccountNum)
	if err != nil {
		return nil, err
	}
	if c.BankCode != q.BankCode {
		return nil, errorWith(ENOTFOUND, ErrUnregisteredContract, "The contract account is at another bank.")
	}
	q.TSPID = p.TSPID
	return s.Store.Remittances(ctx, q)
}

// Recipient answers a receive inquiry (수취조회) before a deposit: the
// recipient account's holder, named by the TSP's fintech use number or by bank
// and number, and the TSP's payout account that would pay it.
func (s *Transfers) Recipient(ctx context.Context, p *Principal, cntrAccountNum, fintechUseNum, bankCode, accountNum string) (*BankAccount, *ContractAccount, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, nil, err
	}
	cntr, err := s.Contracts.ContractAccount(ctx, p.TSPID, cntrAccountNum)
	if err != nil {
		return nil, nil, err
	}
	if fintechUseNum != "" {
		a, err := s.Accounts.Account(ctx, p.TSPID, fintechUseNum)
		if err != nil {
			return nil, nil, err
		}
		bankCode, accountNum = a.BankCode, a.Number
	}
	bank, err := s.Banks.Bank(bankCode)
	if err != nil {
		return nil, nil, err
	}
	acct, err := bank.Account(ctx, accountNum)
	if err != nil {
		return nil, nil, err
	}
	if acct.Closed {
		return nil, nil, &BankError{BankCode: bankCode, RspCode: BankRspClosedAccount, Message: "해약 계좌"}
	}
	return acct, cntr, nil
}

// Return claim codes (claim_code).
const (
	ClaimWrongAccount = "02" // 계좌입력오류
	ClaimWrongAmount  = "03" // 금액입력오류
	ClaimDouble       = "04" // 이중입금
	ClaimOther        = "05" // 기타
	ClaimCustomer     = "06" // 고객반환의사
)

// ReturnClaim asks for a mistaken deposit back (자금반환청구).
type ReturnClaim struct {
	BankTranID      string // the claim's own id, unique per TSP per day like any
	TranDay         string
	OrgBankTranID   string // the deposit being claimed
	OrgBankTranDate string
	OrgAmount       int64
	Amount          int64 // what to return: OrgAmount, or less for a partial claim
	ClaimCode       string
	ReturnAccount   string // the TSP's contract account to receive it
	Hash            string
}

// Claim records a return claim and, when the recipient agrees, returns the
// money through the same exactly-once engine as any transfer: the claim is a
// transfer that debits the original recipient and credits the TSP.
//
// The recipient's decision is simulated by the sandbox: they agree to return
// a double deposit (04) or what they declared (06), and to a wrong-account
// (02) or wrong-amount (03) claim; a claim for another reason (05) needs a
// conversation the sandbox does not have, and is refused (bank code 499).
// In production the receiving bank asks its customer and answers later;
// the claim then stays in progress until it does.
func (s *Transfers) Claim(ctx context.Context, p *Principal, c ReturnClaim) (*Transfer, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, err
	}
	org, err := s.Store.Transfer(ctx, p.TSPID, c.OrgBankTranID, c.OrgBankTranDate)
	if err != nil {
		return nil, err
	}
	if org.Kind != TransferDeposit || org.State != TransferCompleted || org.Amount != c.OrgAmount {
		return nil, errorWith(ENOTFOUND, ErrTransferNotFound, "No completed deposit matches the claim.")
	}
	if c.Amount <= 0 || c.Amount > org.Amount {
		return nil, Errorf(EINVALID, "the amount to return must be between 1 and the original amount")
	}
	ret, err := s.Contracts.ContractAccount(ctx, p.TSPID, c.ReturnAccount)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	t := &Transfer{
		ID: newTransferID(now), TSPID: p.TSPID, Kind: TransferReturn,
		BankTranID: c.BankTranID, TranDay: dayOr(c.TranDay, now), LimitDay: KSTDay(now), RequestHash: c.Hash,
		Amount: c.Amount, Echo: []byte(org.ID), // the store allows one live claim per deposit
		Debit: TransferLeg{BankCode: org.Credit.BankCode, AccountNum: org.Credit.AccountNum, FintechUseNum: org.Credit.FintechUseNum,
			HolderName: org.Credit.HolderName, PrintContent: "반환청구 " + org.Debit.HolderName},
		Credit: TransferLeg{BankCode: ret.BankCode, AccountNum: ret.AccountNum, HolderName: ret.HolderName, PrintContent: "반환 " + org.Credit.HolderName},
	}
	if c.ClaimCode == ClaimOther {
		// The recipient refuses: recorded as a transfer that failed before any
		// bank was asked to move money.
		prior, _, err := s.Store.AcceptTransfer(ctx, t, LimitUse{}, s.Owner, now.Add(s.lease()))
		if err != nil || prior != nil {
			return prior, err
		}
		t.RspCode, t.RspMessage, t.State = BankRspOther, "수취인 반환거부", TransferFailed
		if err := s.Store.SaveTransfer(ctx, t, s.Owner); err != nil {
			return nil, err
		}
		return t, nil
	}
	t, _, err = s.accept(ctx, t, LimitUse{})
	return t, err
}
