package obx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Actor is who performs an admission action: a staff member of the center,
// a TSP's portal user, or the system. The service checks every action
// against it, so a handler that forgets a check cannot let a TSP act on
// another TSP's file or an auditor change anything.
type Actor struct {
	Staff  *StaffUser
	Portal *PortalUser
	// System names a process of the hub itself acting without a person,
	// e.g. "demo seed". Such an actor passes no staff or owner check; only
	// the methods meant for the wiring (Seed) accept it.
	System string
}

// String names the actor in the audit trail.
func (a Actor) String() string {
	switch {
	case a.System != "":
		return "system:" + a.System
	case a.Staff != nil:
		return "staff:" + a.Staff.Email
	case a.Portal != nil:
		return fmt.Sprintf("tsp:%d:%s", a.Portal.TSPID, a.Portal.Email)
	}
	return "system"
}

// AdmissionRepository is everything the admission service keeps: files,
// credentials and sub-businesses, each change audited in its transaction.
type AdmissionRepository interface {
	AdmissionStore
	Client(ctx context.Context, id string) (*Client, error)
	Clients(ctx context.Context, tspID int64) ([]*Client, error)
	CreateClientAudited(ctx context.Context, c *Client, e *AuditEntry) error
	SaveClientAudited(ctx context.Context, c *Client, e *AuditEntry) error
	SubBusinesses(ctx context.Context, tspID int64) ([]*SubBusiness, error)
	SaveSubBusinessAudited(ctx context.Context, s *SubBusiness, e *AuditEntry) error
}

// Admissions runs the admission workflow of rules.md §4–§6: applications,
// the suitability review, functional test, security check, scoring,
// contract, go-live, sub-businesses, suspension and termination. Each method
// is one transaction that writes its audit entry with the change.
type Admissions struct {
	Store    AdmissionRepository
	Banks    BankDirectory
	Registry BankRegistry // banks registered in the console
	Now      func() time.Time
	// NewCredentials returns a new client_id and secret; HashSecret hashes a
	// secret for storage. Package oauth provides both.
	NewCredentials func() (clientID, secret string)
	HashSecret     func(secret string) ([]byte, error)
	// NewUseCode returns a fresh client_use_code.
	NewUseCode func() string
}

// SandboxScopes are the scopes of sandbox credentials.
var SandboxScopes = []string{ScopeLogin, ScopeInquiry, ScopeTransfer, ScopeOOB}

func (s *Admissions) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// requireStaff returns EFORBIDDEN unless a is staff allowed to do action
// ("review", "admin", "audit", "read").
func requireStaff(a Actor, action string) error {
	if a.Staff == nil {
		return Errorf(EFORBIDDEN, "Only the center's staff may do this.")
	}
	if !a.Staff.Can(action) {
		return Errorf(EFORBIDDEN, "Your role (%s) may not do this.", a.Staff.Role)
	}
	return nil
}

// requireOwner returns ENOTFOUND unless a is a portal user of tspID: a TSP
// must not even learn that another TSP's ids exist.
func requireOwner(a Actor, tspID int64) error {
	if a.Portal == nil || a.Portal.TSPID != tspID {
		return Errorf(ENOTFOUND, "No such application.")
	}
	return nil
}

// SignUp registers a TSP on the developer portal: the TSP (in sandbox
// status), its draft application and its first user, whose PasswordHash the
// web layer has already computed.
func (s *Admissions) SignUp(ctx context.Context, company string, u *PortalUser) (*TSP, error) {
	company = strings.TrimSpace(company)
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	var bad []string
	if company == "" || len(company) > 200 {
		bad = append(bad, "a company name (up to 200 characters)")
	}
	if !validEmail(u.Email) {
		bad = append(bad, "a valid email address")
	}
	if strings.TrimSpace(u.Name) == "" || len(u.Name) > 200 {
		bad = append(bad, "the contact's name")
	}
	if u.PasswordHash == "" {
		bad = append(bad, "a password")
	}
	if len(bad) > 0 {
		return nil, Errorf(EINVALID, "Sign-up needs %s.", strings.Join(bad, ", "))
	}
	t := &TSP{Name: company, ClientUseCode: s.NewUseCode(), Status: TSPSandbox}
	e := &AuditEntry{At: s.now(), Actor: "portal:" + u.Email, Action: "tsp.sign_up", After: TSPSandbox, Note: company}
	if err := s.Store.CreateApplicant(ctx, t, u, e); err != nil {
		return nil, err
	}
	return t, nil
}

func validEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return len(e) <= 254 && at > 0 && at < len(e)-1 && !strings.ContainsAny(e, " \t\r\n<>\"") &&
		strings.Contains(e[at:], ".")
}

// File returns a TSP's file to its own portal users or to staff.
func (s *Admissions) File(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if a.Staff == nil {
		if err := requireOwner(a, tspID); err != nil {
			return nil, err
		}
	}
	return s.Store.AdmissionFile(ctx, tspID)
}

// step runs one audited change of a TSP's file.
func (s *Admissions) step(ctx context.Context, a Actor, tspID int64, action string, fn func(f *AdmissionFile) (note string, err error)) (*AdmissionFile, error) {
	return s.Store.UpdateAdmission(ctx, tspID, func(f *AdmissionFile) (*AuditEntry, error) {
		before := f.App.State
		note, err := fn(f)
		if err != nil {
			return nil, err
		}
		return &AuditEntry{At: s.now(), Actor: a.String(), Action: action, Subject: fmt.Sprintf("tsp:%d", tspID),
			Before: before, After: f.App.State, Note: note}, nil
	})
}

// move changes f's state if the workflow allows it, keeping the TSP's status
// (what every replica's API and token endpoint check) in step.
func move(f *AdmissionFile, to string) error {
	if err := CheckTransition(f.App.State, to); err != nil {
		return err
	}
	f.App.State = to
	f.TSP.Status = TSPStatusFor(to)
	return nil
}

// SaveApplication saves the TSP's application form while it is editable.
// The state and the decision are not the applicant's to set.
func (s *Admissions) SaveApplication(ctx context.Context, a Actor, in *Application) (*AdmissionFile, error) {
	if err := requireOwner(a, in.TSPID); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return s.step(ctx, a, in.TSPID, "application.save", func(f *AdmissionFile) (string, error) {
		if !f.App.Editable() {
			return "", Errorf(ECONFLICT, "The application can no longer be changed (it is %s).", f.App.State)
		}
		keep := *f.App
		*f.App = *in
		f.App.State, f.App.Decision, f.App.DecisionReasons = keep.State, keep.Decision, keep.DecisionReasons
		f.App.SubmittedAt, f.App.UpdatedAt = keep.SubmittedAt, keep.UpdatedAt
		return "", nil
	})
}

// Submit sends the application to the center. It must be complete; its
// functional-test checklist gets one line per API applied for.
func (s *Admissions) Submit(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if err := requireOwner(a, tspID); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "application.submit", func(f *AdmissionFile) (string, error) {
		if err := f.App.ValidateForSubmit(); err != nil {
			return "", err
		}
		if err := move(f, AdmSubmitted); err != nil {
			return "", err
		}
		f.App.SubmittedAt = s.now()
		for _, api := range f.App.APIs {
			if !slices.ContainsFunc(f.Checks, func(c *FunctionalCheck) bool { return c.API == api }) {
				f.Checks = append(f.Checks, &FunctionalCheck{API: api})
			}
		}
		return "", nil
	})
}

// StartReview takes a submitted application into suitability review.
func (s *Admissions) StartReview(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "application.review", func(f *AdmissionFile) (string, error) {
		return "", move(f, AdmReview)
	})
}

// Decide records the suitability decision. A rejection needs reasons, which
// the applicant sees; an application that hits an eligibility rule
// (CheckEligibility) cannot be approved.
func (s *Admissions) Decide(ctx context.Context, a Actor, tspID int64, approve bool, reasons string) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	reasons = strings.TrimSpace(reasons)
	if !approve && reasons == "" {
		return nil, Errorf(EINVALID, "A rejection needs reasons the applicant can act on.")
	}
	return s.step(ctx, a, tspID, "application.decide", func(f *AdmissionFile) (string, error) {
		to := AdmRejected
		if approve {
			to = AdmApproved
		}
		if err := CheckTransition(f.App.State, to); err != nil {
			return "", err
		}
		if fs := CheckEligibility(f.App); approve && len(fs) > 0 {
			return "", Errorf(ECONFLICT, "The application cannot be approved: it hits %s (%s).", fs[0].Rule.Ref, fs[0].Rule.Title)
		}
		if err := move(f, to); err != nil {
			return "", err
		}
		f.App.Decision, f.App.DecisionReasons = to, reasons
		f.Notes = append(f.Notes, &Note{At: s.now(), Author: a.String(), Kind: "decision", Text: to + ": " + reasons})
		return reasons, nil
	})
}

// AddNote adds a reviewer's note to a file.
func (s *Admissions) AddNote(ctx context.Context, a Actor, tspID int64, text string) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 5000 {
		return nil, Errorf(EINVALID, "A note needs 1 to 5,000 characters.")
	}
	return s.step(ctx, a, tspID, "application.note", func(f *AdmissionFile) (string, error) {
		f.Notes = append(f.Notes, &Note{At: s.now(), Author: a.String(), Kind: "note", Text: text})
		return text, nil
	})
}

// RequestFunctionalCheck is the TSP asking the center to check its
// integration, once it has built against the sandbox.
func (s *Admissions) RequestFunctionalCheck(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if err := requireOwner(a, tspID); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "functional.request", func(f *AdmissionFile) (string, error) {
		return "", move(f, AdmFunctionalTest)
	})
}

// ConfirmFunctionalCheck is the reviewer passing the functional test: every
// API applied for must have had a successful sandbox call.
func (s *Admissions) ConfirmFunctionalCheck(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "functional.confirm", func(f *AdmissionFile) (string, error) {
		var missing []string
		for _, api := range f.App.APIs {
			if !slices.ContainsFunc(f.Checks, func(c *FunctionalCheck) bool { return c.API == api && !c.PassedAt.IsZero() }) {
				missing = append(missing, api)
			}
		}
		if len(missing) > 0 {
			return "", Errorf(ECONFLICT, "No successful sandbox call yet for: %s.", strings.Join(missing, ", "))
		}
		if err := move(f, AdmSecurityCheck); err != nil {
			return "", err
		}
		for _, c := range f.Checks {
			c.ConfirmedAt, c.ConfirmedBy = s.now(), a.String()
		}
		return "", nil
	})
}

// ReturnFunctionalCheck sends the functional test back to the TSP with a reason.
func (s *Admissions) ReturnFunctionalCheck(ctx context.Context, a Actor, tspID int64, reason string) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, Errorf(EINVALID, "Say why the functional test is returned.")
	}
	return s.step(ctx, a, tspID, "functional.return", func(f *AdmissionFile) (string, error) {
		if err := move(f, AdmApproved); err != nil {
			return "", err
		}
		f.Notes = append(f.Notes, &Note{At: s.now(), Author: a.String(), Kind: "functional", Text: reason})
		return reason, nil
	})
}

// AddDeficiency records a deficient item of the security check.
func (s *Admissions) AddDeficiency(ctx context.Context, a Actor, tspID int64, part, title string) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	title = strings.TrimSpace(title)
	if part != SecurityEnvironment && part != SecurityVulnerability {
		return nil, Errorf(EINVALID, "The part must be %s or %s.", SecurityEnvironment, SecurityVulnerability)
	}
	if title == "" || len(title) > 500 {
		return nil, Errorf(EINVALID, "Describe the deficiency in 1 to 500 characters.")
	}
	return s.step(ctx, a, tspID, "security.deficiency", func(f *AdmissionFile) (string, error) {
		if f.App.State != AdmSecurityCheck {
			return "", Errorf(ECONFLICT, "Deficiencies are recorded during the security check, not in state %s.", f.App.State)
		}
		f.Security = append(f.Security, &SecurityItem{TSPID: tspID, Part: part, Title: title, FoundAt: s.now(), FoundBy: a.String()})
		return part + ": " + title, nil
	})
}

// RemedyDeficiency is the TSP reporting how it remedied a deficiency.
func (s *Admissions) RemedyDeficiency(ctx context.Context, a Actor, tspID, itemID int64, remedy string) (*AdmissionFile, error) {
	if err := requireOwner(a, tspID); err != nil {
		return nil, err
	}
	remedy = strings.TrimSpace(remedy)
	if remedy == "" || len(remedy) > 5000 {
		return nil, Errorf(EINVALID, "Describe the remedy in 1 to 5,000 characters.")
	}
	return s.step(ctx, a, tspID, "security.remedy", func(f *AdmissionFile) (string, error) {
		it := findItem(f, itemID)
		if it == nil {
			return "", Errorf(ENOTFOUND, "No such deficiency.")
		}
		if !it.Open() {
			return "", Errorf(ECONFLICT, "The deficiency is already closed.")
		}
		it.Remedy, it.RemediedAt = remedy, s.now()
		return fmt.Sprintf("item %d: %s", itemID, remedy), nil
	})
}

// CloseDeficiency is the reviewer accepting a remedy.
func (s *Admissions) CloseDeficiency(ctx context.Context, a Actor, tspID, itemID int64) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "security.close", func(f *AdmissionFile) (string, error) {
		it := findItem(f, itemID)
		if it == nil {
			return "", Errorf(ENOTFOUND, "No such deficiency.")
		}
		if !it.Open() {
			return "", Errorf(ECONFLICT, "The deficiency is already closed.")
		}
		it.ClosedAt, it.ClosedBy = s.now(), a.String()
		return fmt.Sprintf("item %d", itemID), nil
	})
}

func findItem(f *AdmissionFile, id int64) *SecurityItem {
	for _, it := range f.Security {
		if it.ID == id {
			return it
		}
	}
	return nil
}

// PassSecurityCheck ends the security check; no deficiency may be open.
func (s *Admissions) PassSecurityCheck(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "security.pass", func(f *AdmissionFile) (string, error) {
		if err := CheckTransition(f.App.State, AdmContract); err != nil {
			return "", err
		}
		if n := f.OpenDeficiencies(); n > 0 {
			return "", Errorf(ECONFLICT, "%d deficiencies are still open.", n)
		}
		return "", move(f, AdmContract)
	})
}

// Scores are a file's two scores of rules.md §5.
type Scores struct {
	SelfCert  SelfCertScore
	Guarantee GuaranteeScore
}

// ScoresOf computes f's scores from its application and security check.
func ScoresOf(f *AdmissionFile) Scores {
	return Scores{SelfCert: ScoreSelfCertification(f.App), Guarantee: ScoreGuarantee(f.App, f.Vulnerabilities())}
}

// ContractTerms is what the reviewer enters in the contract step.
type ContractTerms struct {
	MainBank           string
	MainBankFee        int64
	DailyWithdrawLimit int64
	UserDailyLimit     int64
	PerTransferLimit   int64
	DailyDepositLimit  int64
	Accounts           []string // account numbers at the main bank
	// Individual: use individual bank guarantees (self-certified large TSPs
	// only) with these withdrawing banks; otherwise the center guarantee.
	Individual bool
	Banks      []string
}

// SetContract records the contract terms. Each contract account is verified
// with the main bank, which names its holder. The guarantee is the center's
// (insured amount = daily withdrawal limit × the guarantee score's
// percentage), or individual bank guarantees for a large TSP whose
// self-certification score allows it (rules.md §5.3).
func (s *Admissions) SetContract(ctx context.Context, a Actor, tspID int64, t ContractTerms) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	var bad []string
	if t.DailyWithdrawLimit <= 0 {
		bad = append(bad, "a positive daily withdrawal limit")
	}
	if t.MainBankFee < 0 || t.UserDailyLimit < 0 || t.PerTransferLimit < 0 || t.DailyDepositLimit < 0 {
		bad = append(bad, "fees and limits that are not negative")
	}
	if len(t.Accounts) == 0 || len(t.Accounts) > MaxContractAccounts {
		bad = append(bad, fmt.Sprintf("1 to %d contract accounts", MaxContractAccounts))
	}
	if t.Individual && len(t.Banks) == 0 {
		bad = append(bad, "the withdrawing banks of the individual guarantees")
	}
	if len(bad) > 0 {
		return nil, Errorf(EINVALID, "The contract needs %s.", strings.Join(bad, ", "))
	}
	bank, err := s.Banks.Bank(t.MainBank)
	if err != nil {
		return nil, Errorf(EINVALID, "No participating bank has code %q.", t.MainBank)
	}
	for _, b := range t.Banks {
		if _, err := s.Banks.Bank(b); err != nil {
			return nil, Errorf(EINVALID, "No participating bank has code %q.", b)
		}
	}
	var accounts []ContractAccount
	for _, num := range t.Accounts {
		if slices.ContainsFunc(accounts, func(c ContractAccount) bool { return c.AccountNum == num }) {
			return nil, Errorf(EINVALID, "Account %s is listed twice.", MaskAccountNum(num))
		}
		acct, err := bank.Account(ctx, num)
		var refused *BankError
		if errors.As(err, &refused) || ErrorCode(err) == ENOTFOUND || (err == nil && acct.Closed) {
			return nil, Errorf(EINVALID, "Bank %s has no open account %s.", t.MainBank, MaskAccountNum(num))
		}
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, ContractAccount{TSPID: tspID, BankCode: t.MainBank, AccountNum: num,
			HolderName: acct.HolderName, Kind: ContractBoth})
	}
	return s.step(ctx, a, tspID, "contract.set", func(f *AdmissionFile) (string, error) {
		if f.App.State != AdmContract {
			return "", Errorf(ECONFLICT, "The contract is set in the contract step, not in state %s.", f.App.State)
		}
		sc := ScoresOf(f)
		c := &AdmissionContract{MainBank: t.MainBank, MainBankFee: t.MainBankFee, DailyWithdrawLimit: t.DailyWithdrawLimit,
			UserDailyLimit: t.UserDailyLimit, PerTransferLimit: t.PerTransferLimit, DailyDepositLimit: t.DailyDepositLimit,
			Large: f.App.Large(), Accounts: accounts, RequestedAt: s.now()}
		if f.Contract != nil && !f.Contract.RequestedAt.IsZero() {
			c.RequestedAt = f.Contract.RequestedAt
		}
		if t.Individual {
			if !f.App.SelfCert || !sc.SelfCert.Eligible {
				return "", Errorf(ECONFLICT, "Individual bank guarantees are for self-certified large TSPs: %s", orReason(sc.SelfCert))
			}
			c.Guarantee = GuaranteeIndividual
			for _, b := range t.Banks {
				g := BankGuarantee{BankCode: b}
				if f.Contract != nil {
					for _, old := range f.Contract.BankGuarantees {
						if old.BankCode == b {
							g = old
						}
					}
				}
				c.BankGuarantees = append(c.BankGuarantees, g)
			}
		} else {
			c.Guarantee = GuaranteeCenter
			c.GuaranteePercent = sc.Guarantee.Percent
			c.InsuredAmount = InsuredAmount(t.DailyWithdrawLimit, sc.Guarantee.Percent)
		}
		f.Contract = c
		return fmt.Sprintf("main bank %s, limit %d, guarantee %s %d%% insured %d", c.MainBank, c.DailyWithdrawLimit,
			c.Guarantee, c.GuaranteePercent, c.InsuredAmount), nil
	})
}

func orReason(s SelfCertScore) string {
	if s.Reason != "" {
		return s.Reason
	}
	return "the TSP did not apply for self-certification."
}

// AgreeBankGuarantee records that a withdrawing bank agreed its individual
// guarantee limit; withdrawals from that bank's accounts may then start.
func (s *Admissions) AgreeBankGuarantee(ctx context.Context, a Actor, tspID int64, bank string, limit int64) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, Errorf(EINVALID, "The guarantee limit must be positive.")
	}
	return s.step(ctx, a, tspID, "contract.bank_guarantee", func(f *AdmissionFile) (string, error) {
		if f.Contract == nil || f.Contract.Guarantee != GuaranteeIndividual {
			return "", Errorf(ECONFLICT, "The contract has no individual bank guarantees.")
		}
		for i := range f.Contract.BankGuarantees {
			g := &f.Contract.BankGuarantees[i]
			if g.BankCode == bank {
				g.Limit, g.AgreedAt = limit, s.now()
				return fmt.Sprintf("bank %s limit %d", bank, limit), nil
			}
		}
		return "", Errorf(ENOTFOUND, "Bank %s is not one of the contract's withdrawing banks.", bank)
	})
}

// GoLive signs the contract and makes the TSP active: its live credentials
// are issued (the TSP's portal user sets their secret) and the money-movement
// contract is written, in one transaction. Every replica sees the TSP as
// active from the commit, since each reads its status from the database.
func (s *Admissions) GoLive(ctx context.Context, a Actor, tspID int64) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	id, secret := s.NewCredentials()
	hash, err := s.HashSecret(secret) // nobody sees this secret: the TSP rotates to its own
	if err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "tsp.go_live", func(f *AdmissionFile) (string, error) {
		if f.App.State != AdmContract {
			return "", Errorf(ECONFLICT, "Only a TSP in the contract step can go live (it is %s).", f.App.State)
		}
		if f.Contract == nil {
			return "", Errorf(ECONFLICT, "The contract step is still open: no contract is recorded.")
		}
		if err := move(f, AdmLive); err != nil {
			return "", err
		}
		f.Contract.SignedAt = s.now()
		f.ActivateContract = true
		f.TSP.SelfAuth = f.App.SelfCert && ScoreSelfCertification(f.App).Eligible
		scopes := slices.Clone(SandboxScopes)
		if f.TSP.SelfAuth {
			scopes = append(scopes, ScopeSA)
		}
		f.IssueClient = &Client{ID: id, TSPID: tspID, Name: f.TSP.Name + " (live)", SecretHash: hash,
			Scopes: scopes, Env: EnvLive, CreatedAt: s.now()}
		return "live client " + id, nil
	})
}

// Suspend stops every API call and token request of the TSP at once, for
// one of SuspensionReasons, until Reinstate.
func (s *Admissions) Suspend(ctx context.Context, a Actor, tspID int64, reason, note string) (*AdmissionFile, error) {
	return s.sanction(ctx, a, tspID, "tsp.suspend", AdmSuspended, reason, note)
}

// Terminate ends the TSP's participation for good: its state cannot change
// again and every credential is revoked.
func (s *Admissions) Terminate(ctx context.Context, a Actor, tspID int64, reason, note string) (*AdmissionFile, error) {
	return s.sanction(ctx, a, tspID, "tsp.terminate", AdmTerminated, reason, note)
}

func (s *Admissions) sanction(ctx context.Context, a Actor, tspID int64, action, to, reason, note string) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	r := FindRule(SuspensionReasons, reason)
	if r == nil {
		return nil, Errorf(EINVALID, "Choose one of the reasons of rules §4.7.")
	}
	if len(note) > 5000 {
		return nil, Errorf(EINVALID, "The note is longer than 5,000 characters.")
	}
	return s.step(ctx, a, tspID, action, func(f *AdmissionFile) (string, error) {
		if err := move(f, to); err != nil {
			return "", err
		}
		f.RevokeClients = to == AdmTerminated
		f.Notes = append(f.Notes, &Note{At: s.now(), Author: a.String(), Kind: to, Rule: r.Code,
			Text: strings.TrimSpace(r.Title + ". " + note)})
		return r.Code + ": " + note, nil
	})
}

// Reinstate lifts a suspension.
func (s *Admissions) Reinstate(ctx context.Context, a Actor, tspID int64, note string) (*AdmissionFile, error) {
	if err := requireStaff(a, "review"); err != nil {
		return nil, err
	}
	return s.step(ctx, a, tspID, "tsp.reinstate", func(f *AdmissionFile) (string, error) {
		if err := move(f, AdmLive); err != nil {
			return "", err
		}
		f.ActivateContract = f.Contract != nil
		f.Notes = append(f.Notes, &Note{At: s.now(), Author: a.String(), Kind: "reinstated", Text: note})
		return note, nil
	})
}

// CreateApp gives a TSP a new app with sandbox credentials at once; the
// secret is returned here and never again.
func (s *Admissions) CreateApp(ctx context.Context, a Actor, name string, redirectURIs []string) (*Client, string, error) {
	if a.Portal == nil {
		return nil, "", Errorf(EFORBIDDEN, "Apps are created by the TSP on the developer portal.")
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", Errorf(EINVALID, "The app needs a name of 1 to 100 characters.")
	}
	if len(redirectURIs) == 0 || len(redirectURIs) > 10 {
		return nil, "", Errorf(EINVALID, "Give 1 to 10 redirect URIs.")
	}
	for _, u := range redirectURIs {
		if err := ValidRedirectURI(u); err != nil {
			return nil, "", err
		}
	}
	f, err := s.Store.AdmissionFile(ctx, a.Portal.TSPID)
	if err != nil {
		return nil, "", err
	}
	if f.App.State == AdmTerminated {
		return nil, "", Errorf(EFORBIDDEN, "The TSP's participation was terminated.")
	}
	id, secret := s.NewCredentials()
	hash, err := s.HashSecret(secret)
	if err != nil {
		return nil, "", err
	}
	c := &Client{ID: id, TSPID: a.Portal.TSPID, Name: name, SecretHash: hash, RedirectURIs: redirectURIs,
		Scopes: slices.Clone(SandboxScopes), Env: EnvSandbox, CreatedAt: s.now()}
	e := &AuditEntry{At: s.now(), Actor: a.String(), Action: "client.create", Subject: "client:" + id, After: EnvSandbox, Note: name}
	if err := s.Store.CreateClientAudited(ctx, c, e); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// ValidRedirectURI accepts an absolute https URL, or http on localhost for
// development, without a fragment: redirect URIs are matched exactly.
func ValidRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Fragment != "" || len(s) > 500 {
		return Errorf(EINVALID, "Redirect URI %q must be an absolute URL without a fragment.", s)
	}
	host := u.Hostname()
	if u.Scheme == "https" || (u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1" || host == "::1")) {
		return nil
	}
	return Errorf(EINVALID, "Redirect URI %q must use https (http only on localhost).", s)
}

// ownClient returns one of the actor's TSP's clients; ENOTFOUND for anyone
// else's.
func (s *Admissions) ownClient(ctx context.Context, a Actor, clientID string) (*Client, error) {
	c, err := s.Store.Client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if a.Portal == nil || c.TSPID != a.Portal.TSPID {
		return nil, Errorf(ENOTFOUND, "No such client.")
	}
	return c, nil
}

// RotateSecret gives a client a new secret, shown once. The old one keeps
// working for SecretOverlap so that the TSP can deploy the new one.
func (s *Admissions) RotateSecret(ctx context.Context, a Actor, clientID string) (string, error) {
	c, err := s.ownClient(ctx, a, clientID)
	if err != nil {
		return "", err
	}
	if !c.RevokedAt.IsZero() {
		return "", Errorf(ECONFLICT, "The client is revoked.")
	}
	_, secret := s.NewCredentials()
	hash, err := s.HashSecret(secret)
	if err != nil {
		return "", err
	}
	c.PreviousSecretHash, c.PreviousSecretUntil, c.SecretHash = c.SecretHash, s.now().Add(SecretOverlap), hash
	e := &AuditEntry{At: s.now(), Actor: a.String(), Action: "client.rotate", Subject: "client:" + c.ID,
		Note: "previous secret valid until " + c.PreviousSecretUntil.Format(time.RFC3339)}
	return secret, s.Store.SaveClientAudited(ctx, c, e)
}

// RevokeClient revokes a client at once. compromised marks a report of a
// stolen or misused credential (rules.md §8); the previous secret dies too.
func (s *Admissions) RevokeClient(ctx context.Context, a Actor, clientID string, compromised bool) error {
	c, err := s.ownClient(ctx, a, clientID)
	if err != nil {
		return err
	}
	if !c.RevokedAt.IsZero() {
		return nil
	}
	c.RevokedAt, c.PreviousSecretHash, c.PreviousSecretUntil = s.now(), nil, time.Time{}
	action := "client.revoke"
	if compromised {
		action = "client.compromised"
	}
	return s.Store.SaveClientAudited(ctx, c, &AuditEntry{At: s.now(), Actor: a.String(), Action: action,
		Subject: "client:" + c.ID, Before: "active", After: "revoked"})
}

// Clients lists a TSP's clients to its own users or to staff.
func (s *Admissions) Clients(ctx context.Context, a Actor, tspID int64) ([]*Client, error) {
	if a.Staff == nil {
		if err := requireOwner(a, tspID); err != nil {
			return nil, err
		}
	}
	return s.Store.Clients(ctx, tspID)
}

// RequestSubBusiness submits a new sub-business for the center's prior
// approval (rules.md §6). Only financial companies and electronic-finance
// businesses may have sub-businesses.
func (s *Admissions) RequestSubBusiness(ctx context.Context, a Actor, sb *SubBusiness) error {
	if a.Portal == nil {
		return Errorf(EFORBIDDEN, "Sub-businesses are submitted by the TSP.")
	}
	sb.TSPID = a.Portal.TSPID
	sb.Num, sb.Name = strings.TrimSpace(sb.Num), strings.TrimSpace(sb.Name)
	if sb.Num == "" || len(sb.Num) > 20 || sb.Name == "" || len(sb.Name) > 100 || !digits(sb.BusinessNum, 10) {
		return Errorf(EINVALID, "A sub-business needs a number (up to 20 characters), a name and a 10-digit business registration number.")
	}
	f, err := s.Store.AdmissionFile(ctx, sb.TSPID)
	if err != nil {
		return err
	}
	if !f.App.MayHaveSubBusinesses() {
		return Errorf(EFORBIDDEN, "Only financial companies and electronic-finance businesses may have sub-businesses (rules §6).")
	}
	old, err := s.subBusiness(ctx, sb.TSPID, sb.Num)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return err
	}
	if old != nil && old.Approved {
		return Errorf(ECONFLICT, "Sub-business %s is already approved.", sb.Num)
	}
	sb.Approved, sb.State = false, SubPending
	return s.Store.SaveSubBusinessAudited(ctx, sb, &AuditEntry{At: s.now(), Actor: a.String(), Action: "sub_business.request",
		Subject: fmt.Sprintf("tsp:%d", sb.TSPID), After: SubPending, Note: sb.Num + " " + sb.Name + " " + sb.BusinessNum})
}

// DecideSubBusiness approves or rejects a pending sub-business. Only an
// approved one may appear on a transfer.
func (s *Admissions) DecideSubBusiness(ctx context.Context, a Actor, tspID int64, num string, approve bool, reason string) error {
	if err := requireStaff(a, "review"); err != nil {
		return err
	}
	sb, err := s.subBusiness(ctx, tspID, num)
	if err != nil {
		return err
	}
	if sb.State != SubPending {
		return Errorf(ECONFLICT, "Sub-business %s is not pending.", num)
	}
	if !approve && strings.TrimSpace(reason) == "" {
		return Errorf(EINVALID, "A rejection needs a reason.")
	}
	before := sb.State
	sb.Approved, sb.State = approve, SubRejected
	if approve {
		sb.State = SubApproved
	}
	return s.Store.SaveSubBusinessAudited(ctx, sb, &AuditEntry{At: s.now(), Actor: a.String(), Action: "sub_business.decide",
		Subject: fmt.Sprintf("tsp:%d", tspID), Before: before, After: sb.State, Note: num + ": " + reason})
}

// subBusiness returns one of a TSP's sub-businesses with its review state.
func (s *Admissions) subBusiness(ctx context.Context, tspID int64, num string) (*SubBusiness, error) {
	all, err := s.Store.SubBusinesses(ctx, tspID)
	if err != nil {
		return nil, err
	}
	for _, sb := range all {
		if sb.Num == num {
			return sb, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "No such sub-business.")
}

// SubBusinesses lists a TSP's sub-businesses to its users or to staff.
func (s *Admissions) SubBusinesses(ctx context.Context, a Actor, tspID int64) ([]*SubBusiness, error) {
	if a.Staff == nil {
		if err := requireOwner(a, tspID); err != nil {
			return nil, err
		}
	}
	return s.Store.SubBusinesses(ctx, tspID)
}

// RegisterBank adds a participating bank (admins only). Every replica
// connects to it within its next registry refresh.
func (s *Admissions) RegisterBank(ctx context.Context, a Actor, b *BankConfig) error {
	if err := requireStaff(a, "admin"); err != nil {
		return err
	}
	b.Code, b.Name, b.URL = strings.TrimSpace(b.Code), strings.TrimSpace(b.Name), strings.TrimRight(strings.TrimSpace(b.URL), "/")
	if err := b.Validate(); err != nil {
		return err
	}
	if _, err := s.Banks.Bank(b.Code); err == nil {
		return Errorf(ECONFLICT, "Bank %s is already a participating bank.", b.Code)
	}
	conn := b.URL
	if conn == "" {
		conn = "simulated"
	}
	return s.Registry.RegisterBank(ctx, b, &AuditEntry{At: s.now(), Actor: a.String(), Action: "bank.register",
		Subject: "bank:" + b.Code, After: conn + " " + b.Env, Note: b.Name})
}

// SetBankMaintenance replaces a registered bank's daily maintenance windows
// (admins only).
func (s *Admissions) SetBankMaintenance(ctx context.Context, a Actor, code, windows string) error {
	if err := requireStaff(a, "admin"); err != nil {
		return err
	}
	ws, err := ParseMaintenance(windows)
	if err != nil {
		return err
	}
	if _, err := s.Banks.Bank(code); err != nil {
		regs, err := s.Registry.RegisteredBanks(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(regs, func(b *BankConfig) bool { return b.Code == code }) {
			return Errorf(ENOTFOUND, "No participating bank has code %q.", code)
		}
	}
	return s.Registry.SetMaintenance(ctx, code, ws, &AuditEntry{At: s.now(), Actor: a.String(), Action: "bank.maintenance",
		Subject: "bank:" + code})
}
