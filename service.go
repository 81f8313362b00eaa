package obx

import (
	"context"
	"sync"
	"time"
)

// Service answers the customer-authorised inquiry and management APIs. Every
// method checks the caller's principal against the data it touches — scope,
// TSP, user, account state and consent — here rather than in handlers, so a
// forgotten check in a transport cannot leak another party's data.
type Service struct {
	Accounts AccountStore
	Banks    BankDirectory
	Now      func() time.Time
}

// requireScope returns an EFORBIDDEN error wrapping ErrScope unless the token
// grants one of scopes.
func requireScope(p *Principal, scopes ...string) error {
	for _, s := range scopes {
		if p.HasScope(s) {
			return nil
		}
	}
	return errorWith(EFORBIDDEN, ErrScope, "The token does not grant the scope this API needs.")
}

// user resolves the user a request is about. A user token speaks only for its
// own user; an institution token (sa) names the user in the request.
func (s *Service) user(ctx context.Context, p *Principal, seqNo string) (string, error) {
	if p.UserSeqNo != "" {
		if seqNo != "" && seqNo != p.UserSeqNo {
			return "", errorWith(EFORBIDDEN, ErrWrongUser, "user_seq_no does not match the token's user.")
		}
		seqNo = p.UserSeqNo
	}
	if seqNo == "" {
		return "", Errorf(EINVALID, "user_seq_no is required")
	}
	if p.Linked && seqNo == p.UserSeqNo {
		return seqNo, nil // found active by the token's check for this request
	}
	link, err := s.Accounts.Link(ctx, p.TSPID, seqNo)
	if ErrorCode(err) == ENOTFOUND {
		return "", errorWith(ENOTFOUND, ErrUnknownUser, "No such user for this TSP.")
	}
	if err != nil {
		return "", err
	}
	switch link.State {
	case LinkClosed:
		return "", errorWith(EFORBIDDEN, ErrUserClosed, "The user has left this service.")
	case LinkUnlinked:
		return "", errorWith(EFORBIDDEN, ErrConsentMissing, "The user withdrew the login consent.")
	}
	return seqNo, nil
}

// account returns the caller's account by fintech use number, checking that it
// belongs to the token's user and, when scope is set, that its consent for
// scope holds now.
func (s *Service) account(ctx context.Context, p *Principal, fintechUseNum, scope string) (*Account, error) {
	a, err := s.Accounts.Account(ctx, p.TSPID, fintechUseNum)
	if err != nil {
		return nil, err
	}
	if err := s.mayUse(ctx, p, a, scope); err != nil {
		return nil, err
	}
	return a, nil
}

// mayUse checks that p may use account a, read for p's TSP: it belongs to
// p's user, that user is linked with the TSP, and the consent for scope ("" for
// none) is in force.
func (s *Service) mayUse(ctx context.Context, p *Principal, a *Account, scope string) error {
	if p.UserSeqNo != "" && a.UserSeqNo != p.UserSeqNo {
		return errorWith(EFORBIDDEN, ErrWrongUser, "The account belongs to another user.")
	}
	if _, err := s.user(ctx, p, a.UserSeqNo); err != nil {
		return err
	}
	if scope != "" {
		return a.Consent(scope, s.Now())
	}
	return nil
}

// UserMe returns a user and their active accounts (GET /v2.0/user/me).
func (s *Service) UserMe(ctx context.Context, p *Principal, seqNo string) (*User, []*Account, error) {
	return s.AccountList(ctx, p, seqNo, false)
}

// AccountList returns a user and their accounts (GET /v2.0/account/list).
func (s *Service) AccountList(ctx context.Context, p *Principal, seqNo string, includeCancelled bool) (*User, []*Account, error) {
	if err := requireScope(p, ScopeLogin, ScopeSA); err != nil {
		return nil, nil, err
	}
	seqNo, err := s.user(ctx, p, seqNo)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.Accounts.User(ctx, seqNo)
	if err != nil {
		return nil, nil, err
	}
	accts, err := s.Accounts.Accounts(ctx, p.TSPID, seqNo, includeCancelled)
	if err != nil {
		return nil, nil, err
	}
	return u, accts, nil
}

// UpdateAlias renames an account (POST /v2.0/account/update_info).
func (s *Service) UpdateAlias(ctx context.Context, p *Principal, fintechUseNum, alias string) (*Account, error) {
	if err := requireScope(p, ScopeLogin, ScopeSA); err != nil {
		return nil, err
	}
	a, err := s.account(ctx, p, fintechUseNum, "")
	if err != nil {
		return nil, err
	}
	if a.State == AccountStateCancelled {
		return nil, errorWith(EFORBIDDEN, ErrAccountCancelled, "The account registration was cancelled.")
	}
	return s.Accounts.UpdateAlias(ctx, p.TSPID, fintechUseNum, alias)
}

// CancelAccount withdraws an account's inquiry or transfer consent
// (POST /v2.0/account/cancel). Cancelling what is already cancelled succeeds,
// as KFTC tells clients to treat "already cancelled" as done.
func (s *Service) CancelAccount(ctx context.Context, p *Principal, fintechUseNum, scope string) (*Account, error) {
	if err := requireScope(p, ScopeLogin, ScopeSA); err != nil {
		return nil, err
	}
	if scope != ScopeInquiry && scope != ScopeTransfer {
		return nil, Errorf(EINVALID, "scope must be inquiry or transfer")
	}
	if _, err := s.account(ctx, p, fintechUseNum, ""); err != nil {
		return nil, err
	}
	return s.Accounts.CancelAccount(ctx, p.TSPID, fintechUseNum, scope, s.Now())
}

// SetLinkState unlinks (user/unlink) or closes (user/close) a user with the
// calling TSP. Its effect is immediate: the store revokes the user's tokens in
// the same transaction. clientUseCode must be the caller's.
func (s *Service) SetLinkState(ctx context.Context, p *Principal, clientUseCode, seqNo, state string) error {
	scopes := []string{ScopeLogin}
	if state == LinkClosed {
		scopes = append(scopes, ScopeSA)
	}
	if err := requireScope(p, scopes...); err != nil {
		return err
	}
	if clientUseCode != p.ClientUseCode {
		return Errorf(EINVALID, "client_use_code does not match the token's institution")
	}
	seqNo, err := s.user(ctx, p, seqNo)
	if err != nil {
		return err
	}
	return s.Accounts.SetLinkState(ctx, p.TSPID, seqNo, state, s.Now())
}

// Balance asks the account's bank for its balance (GET /v2.0/account/balance/fin_num).
func (s *Service) Balance(ctx context.Context, p *Principal, fintechUseNum string) (*Account, *Balance, error) {
	if err := requireScope(p, ScopeInquiry, ScopeSA); err != nil {
		return nil, nil, err
	}
	a, err := s.account(ctx, p, fintechUseNum, ScopeInquiry)
	if err != nil {
		return nil, nil, err
	}
	bank, err := s.Banks.Bank(a.BankCode)
	if err != nil {
		return a, nil, err
	}
	b, err := bank.Balance(ctx, a.Number)
	return a, b, err
}

// Transactions asks the account's bank for one page of history
// (GET /v2.0/account/transaction_list/fin_num). q.AccountNum is filled in here.
func (s *Service) Transactions(ctx context.Context, p *Principal, fintechUseNum string, q TransactionQuery) (*Account, *TransactionPage, error) {
	if err := requireScope(p, ScopeInquiry, ScopeSA); err != nil {
		return nil, nil, err
	}
	if q.To.Before(q.From) {
		return nil, nil, Errorf(EINVALID, "the inquiry period ends before it starts")
	}
	a, err := s.account(ctx, p, fintechUseNum, ScopeInquiry)
	if err != nil {
		return nil, nil, err
	}
	bank, err := s.Banks.Bank(a.BankCode)
	if err != nil {
		return a, nil, err
	}
	q.AccountNum = a.Number
	page, err := bank.Transactions(ctx, q)
	return a, page, err
}

// BankState is one bank's code, name and status.
type BankState struct {
	Code, Name string
	Status     BankStatus
}

// BankStates asks every bank for its status at once, so one slow bank delays
// the answer by at most the directory's per-bank timeout. A bank that fails to
// answer is reported down.
func (s *Service) BankStates(ctx context.Context, p *Principal) ([]BankState, error) {
	if err := requireScope(p, ScopeOOB, ScopeSA); err != nil {
		return nil, err
	}
	banks := s.Banks.Banks()
	out := make([]BankState, len(banks))
	var wg sync.WaitGroup
	for i, b := range banks {
		out[i] = BankState{Code: b.Code(), Name: b.Name()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := b.Status(ctx)
			if err != nil {
				out[i].Status = BankStatus{Message: ErrorMessage(err)}
				return
			}
			out[i].Status = *st
		}()
	}
	wg.Wait()
	return out, nil
}
