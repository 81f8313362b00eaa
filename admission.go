package obx

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Admission states of a TSP's application (rules.md §4). The workflow moves
// only along AdmissionTransitions:
//
//	draft → submitted → review → approved → functional_test → security_check → contract → live
//	                           ↘ rejected → submitted (remedied)
//	functional_test → approved (returned)      live ⇄ suspended
//	live, suspended → terminated
//
// "approved" is the suitability decision; the TSP then builds against the
// sandbox until it requests the functional check.
const (
	AdmDraft          = "draft"
	AdmSubmitted      = "submitted"
	AdmReview         = "review" // suitability review
	AdmApproved       = "approved"
	AdmRejected       = "rejected"
	AdmFunctionalTest = "functional_test"
	AdmSecurityCheck  = "security_check"
	AdmContract       = "contract"
	AdmLive           = "live"
	AdmSuspended      = "suspended"
	AdmTerminated     = "terminated"
)

// AdmissionStates lists the states in workflow order, for queues and filters.
var AdmissionStates = []string{AdmDraft, AdmSubmitted, AdmReview, AdmApproved, AdmRejected,
	AdmFunctionalTest, AdmSecurityCheck, AdmContract, AdmLive, AdmSuspended, AdmTerminated}

// AdmissionTransitions maps each state to the states it may move to. It is
// the one place the workflow's order is written down; CheckTransition reads it.
var AdmissionTransitions = map[string][]string{
	AdmDraft:          {AdmSubmitted},
	AdmSubmitted:      {AdmReview},
	AdmReview:         {AdmApproved, AdmRejected},
	AdmRejected:       {AdmSubmitted},
	AdmApproved:       {AdmFunctionalTest},
	AdmFunctionalTest: {AdmSecurityCheck, AdmApproved},
	AdmSecurityCheck:  {AdmContract},
	AdmContract:       {AdmLive},
	AdmLive:           {AdmSuspended, AdmTerminated},
	AdmSuspended:      {AdmLive, AdmTerminated},
}

// CheckTransition returns nil if an application may move from one state to
// the other, and ECONFLICT otherwise: no step may be skipped or repeated.
func CheckTransition(from, to string) error {
	if slices.Contains(AdmissionTransitions[from], to) {
		return nil
	}
	return Errorf(ECONFLICT, "An application in state %q cannot move to %q.", from, to)
}

// TSPSandbox is the status of a TSP that signed up but is not live: its
// sandbox credentials work, it has no live ones.
const TSPSandbox = "sandbox"

// TSPStatusFor is the TSP status (what the API and token endpoint check)
// that an admission state implies.
func TSPStatusFor(state string) string {
	switch state {
	case AdmLive:
		return TSPActive
	case AdmSuspended:
		return TSPSuspended
	case AdmTerminated:
		return TSPTerminated
	}
	return TSPSandbox
}

// Eligibility categories (rules.md §4.2): who may use the hub at all.
const (
	EligibleBank              = "bank"
	EligibleFintech           = "fintech"            // in the regulator's fintech classification
	EligibleEFinance          = "efinance"           // electronic-finance business
	EligibleEFinanceAssistant = "efinance_assistant" // electronic-finance assistant
	EligibleRecognised        = "recognised"         // recognised by the center
)

// EligibilityCategories lists the categories, for forms and validation.
var EligibilityCategories = []string{EligibleBank, EligibleFintech, EligibleEFinance, EligibleEFinanceAssistant, EligibleRecognised}

// Rule is a rule an application or a TSP can break, with where it is written.
type Rule struct {
	Code  string // stable identifier, stored and used in forms
	Ref   string // the rule's place in rules.md, e.g. "§4.3"
	Title string
}

// ExcludedBusinesses are the businesses that may not use the hub (rules.md §4.3).
var ExcludedBusinesses = []Rule{
	{"gambling", "§4.3", "speculative or gambling business"},
	{"bankrupt", "§4.3", "bankrupt company"},
	{"game_money", "§4.3", "game-money or item brokerage"},
	{"virtual_currency", "§4.3", "virtual-currency issuance (ICO) or exchange"},
	{"multi_level_marketing", "§4.3", "multi-level marketing"},
	{"funeral_mutual_aid", "§4.3", "funeral mutual-aid company"},
	{"money_lending", "§4.3", "money lending (P2P included)"},
	{"illegal", "§4.3", "against public morals or illegal (money laundering, terrorist financing)"},
	{"unlicensed", "§4.3", "lacking the licence its business model needs"},
	{"financial_order", "§4.3", "suspected of disturbing financial order"},
	{"consumer_harm", "§4.3", "other risk of consumer harm"},
}

// ExcludedServices are the services no TSP may run over the hub (rules.md §4.3).
var ExcludedServices = []Rule{
	{"withdrawal_agency", "§4.3", "withdrawal agency (taking a payer's withdrawal consent through the payee, or reselling it)"},
	{"bill_collection", "§4.3", "bill collection (periodic or repeated debits by the collecting party)"},
}

// OfferedServices are the services an application may say it offers; the
// excluded ones are among them so that an applicant can declare them and be
// flagged rather than hide them.
var OfferedServices = append([]Rule{
	{"inquiry", "§2", "account inquiry (balance, history)"},
	{"payment", "§2", "payment by withdrawal transfer"},
	{"remittance", "§2", "remittance by deposit transfer"},
	{"pfm", "§2", "personal finance management"},
	{"overseas_remittance", "§2", "small overseas remittance"},
}, ExcludedServices...)

// SuspensionReasons are why the center suspends or terminates a TSP
// (rules.md §4.7, and §8 for a missed go-live date).
var SuspensionReasons = []Rule{
	{"false_identity", "§4.7", "another's name or false documents were used"},
	{"unconsented_withdrawal", "§4.7", "money was withdrawn without the customer's consent"},
	{"unpaid_fees", "§4.7", "fees went unpaid 3 or more times"},
	{"excluded_business", "§4.7", "it or a sub-business falls under an excluded business"},
	{"excluded_service", "§4.7", "it runs an excluded service"},
	{"supervisor", "§4.7", "the supervisor recommends termination"},
	{"bank_request", "§4.7", "a participating bank requests it"},
	{"terms_breach", "§4.7", "the terms were breached"},
	{"missed_go_live", "§8", "did not go live on the assigned date"},
}

// FindRule returns the rule with code in rules, or nil.
func FindRule(rules []Rule, code string) *Rule {
	for i := range rules {
		if rules[i].Code == code {
			return &rules[i]
		}
	}
	return nil
}

// KFTC APIs an application may apply for; the functional test has one
// checklist line per API applied for.
var AdmissionAPIs = []string{
	"/v2.0/user/me", "/v2.0/account/list", "/v2.0/account/balance/fin_num",
	"/v2.0/account/transaction_list/fin_num", "/v2.0/inquiry/real_name",
	"/v2.0/transfer/withdraw/fin_num", "/v2.0/transfer/deposit/fin_num", "/v2.0/transfer/result",
	"/v2.0/bank/status",
}

// Application is a TSP's application for production use: the company data
// the review and the scoring need (rules.md §4–§5). Amounts are KRW.
type Application struct {
	TSPID       int64
	State       string
	CompanyName string
	BusinessNum string // 10-digit business registration number
	Category    string // one of EligibilityCategories; "" = none of them
	Activities  []string
	Services    []string // codes of OfferedServices
	APIs        []string // KFTC API paths applied for
	ServicePlan string
	SubBusiness bool // intends to resell its payment module to sub-businesses
	SelfCert    bool // asks to certify its own customers' authentication

	CreditRating        string // one of CreditRatings; "" = none
	PaidInCapital       int64
	AnnualRevenue       int64
	BusinessMonths      int // time in (electronic-finance) business
	ServiceMonths       int // service period, prior firm banking included
	Members             int64
	AnnualTransactions  int64
	Licences            []string
	AML                 bool // operates an anti-money-laundering system
	ComplaintHandling   bool
	AccountVerification bool // applies account-ownership verification (1-won transfer)

	Decision        string // the last suitability decision: AdmApproved, AdmRejected or ""
	DecisionReasons string
	SubmittedAt     time.Time
	UpdatedAt       time.Time
}

// HasLicence reports whether a holds licence l.
func (a *Application) HasLicence(l string) bool { return slices.Contains(a.Licences, l) }

// Large reports whether the TSP is large: paid-in capital ≥ 2bn KRW.
func (a *Application) Large() bool { return a.PaidInCapital >= LargeTSPCapital }

// MayHaveSubBusinesses: only financial companies and electronic-finance
// businesses may have sub-businesses (rules.md §6).
func (a *Application) MayHaveSubBusinesses() bool {
	return a.HasLicence(LicenceFinancial) || a.HasLicence(LicencePrepaidDebit) ||
		a.HasLicence(LicenceEFinanceOther) || a.Category == EligibleEFinance || a.Category == EligibleBank
}

// Editable reports whether the TSP may still change the application.
func (a *Application) Editable() bool { return a.State == AdmDraft || a.State == AdmRejected }

// Validate checks that a is complete and well-formed enough to be
// submitted: every problem in one EINVALID error.
func (a *Application) Validate() error {
	var bad []string
	if strings.TrimSpace(a.CompanyName) == "" {
		bad = append(bad, "the company name is required")
	}
	if !digits(a.BusinessNum, 10) {
		bad = append(bad, "the business registration number must be 10 digits")
	}
	if a.Category != "" && !slices.Contains(EligibilityCategories, a.Category) {
		bad = append(bad, "unknown eligibility category")
	}
	if a.CreditRating != "" && !slices.Contains(CreditRatings, a.CreditRating) {
		bad = append(bad, "unknown credit rating")
	}
	for _, c := range a.Activities {
		if FindRule(ExcludedBusinesses, c) == nil {
			bad = append(bad, fmt.Sprintf("unknown business activity %q", c))
		}
	}
	for _, c := range a.Services {
		if FindRule(OfferedServices, c) == nil {
			bad = append(bad, fmt.Sprintf("unknown service %q", c))
		}
	}
	for _, p := range a.APIs {
		if !slices.Contains(AdmissionAPIs, p) {
			bad = append(bad, fmt.Sprintf("unknown API %q", p))
		}
	}
	for _, l := range a.Licences {
		if !slices.Contains(Licences, l) {
			bad = append(bad, fmt.Sprintf("unknown licence %q", l))
		}
	}
	if a.PaidInCapital < 0 || a.AnnualRevenue < 0 || a.BusinessMonths < 0 || a.ServiceMonths < 0 ||
		a.Members < 0 || a.AnnualTransactions < 0 {
		bad = append(bad, "amounts and counts cannot be negative")
	}
	if len(a.ServicePlan) > 20000 {
		bad = append(bad, "the service plan is longer than 20,000 characters")
	}
	if len(bad) > 0 {
		return Errorf(EINVALID, "The application is not valid: %s.", strings.Join(bad, "; "))
	}
	return nil
}

// ValidateForSubmit adds what a submission needs beyond Validate.
func (a *Application) ValidateForSubmit() error {
	if err := a.Validate(); err != nil {
		return err
	}
	var missing []string
	if len(a.APIs) == 0 {
		missing = append(missing, "at least one API")
	}
	if len(a.Services) == 0 {
		missing = append(missing, "at least one service")
	}
	if strings.TrimSpace(a.ServicePlan) == "" {
		missing = append(missing, "a service plan")
	}
	if len(missing) > 0 {
		return Errorf(EINVALID, "The application is missing %s.", strings.Join(missing, ", "))
	}
	return nil
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Finding is something the suitability review must look at: a rule the
// application hits.
type Finding struct {
	Rule   Rule
	Detail string
}

// CheckEligibility returns every eligibility rule of rules.md §4.2–§4.3 that a
// hits: no eligible category, an excluded business, an excluded service. An
// empty result means nothing stands in the way of approval.
func CheckEligibility(a *Application) []Finding {
	var out []Finding
	if a.Category == "" {
		out = append(out, Finding{Rule{"not_eligible", "§4.2", "not an eligible kind of business"},
			"A bank, a fintech in the regulator's classification, an electronic-finance business or assistant, or a business recognised by the center."})
	}
	for _, c := range a.Activities {
		if r := FindRule(ExcludedBusinesses, c); r != nil {
			out = append(out, Finding{*r, "Excluded business: " + r.Title + "."})
		}
	}
	for _, c := range a.Services {
		if r := FindRule(ExcludedServices, c); r != nil {
			out = append(out, Finding{*r, "Excluded service: " + r.Title + "."})
		}
	}
	if a.SubBusiness && !a.MayHaveSubBusinesses() {
		out = append(out, Finding{Rule{"sub_business", "§6", "sub-businesses need a financial company or e-finance business"},
			"Only financial companies and electronic-finance businesses may have sub-businesses."})
	}
	return out
}

// FunctionalCheck is one line of the functional-test checklist: an API the
// TSP applied for, ticked by its first successful sandbox call and confirmed
// by a reviewer.
type FunctionalCheck struct {
	API         string
	PassedAt    time.Time // first successful sandbox call; zero if none yet
	ConfirmedAt time.Time // a reviewer confirmed the line
	ConfirmedBy string
}

// Security-check parts (rules.md §4.5).
const (
	SecurityEnvironment   = "environment"   // the operating environment: systems, facilities, staff
	SecurityVulnerability = "vulnerability" // the app's vulnerabilities: data exposure, tampering
)

// SecurityItem is one deficiency found by the security check.
type SecurityItem struct {
	ID          int64
	TSPID       int64
	Part        string // SecurityEnvironment or SecurityVulnerability
	Title       string
	FoundAt     time.Time
	FoundBy     string
	Remedy      string // the TSP's account of its remedy
	RemediedAt  time.Time
	ClosedAt    time.Time // the reviewer accepted the remedy; zero while open
	ClosedBy    string
	CreatedNote string
}

// Open reports whether the deficiency still stands.
func (s *SecurityItem) Open() bool { return s.ClosedAt.IsZero() }

// Guarantee kinds (rules.md §5.2–§5.3).
const (
	GuaranteeCenter     = "center"     // guarantee insurance of limit × score %
	GuaranteeIndividual = "individual" // per withdrawing bank, for self-certified large TSPs
)

// IndividualGuaranteeDays is how long banks have to agree individual
// guarantees before withdrawals open bank by bank (rules.md §5.3).
const IndividualGuaranteeDays = 30

// AdmissionContract is what the contract step settles: the terms the center
// signs, from which the money-movement Contract is made at go-live.
type AdmissionContract struct {
	MainBank           string
	MainBankFee        int64 // KRW per call, agreed with the main bank
	DailyWithdrawLimit int64
	UserDailyLimit     int64
	PerTransferLimit   int64
	DailyDepositLimit  int64
	Large              bool // paid-in capital ≥ 2bn KRW
	Guarantee          string
	GuaranteePercent   int   // center guarantee: the score's percentage
	InsuredAmount      int64 // center guarantee: limit × percent
	RequestedAt        time.Time
	Accounts           []ContractAccount
	BankGuarantees     []BankGuarantee
	SignedAt           time.Time
}

// BankGuarantee is an individual guarantee agreed with one withdrawing bank.
type BankGuarantee struct {
	BankCode string
	Limit    int64
	AgreedAt time.Time
}

// WithdrawalsOpen reports whether the TSP's withdrawals from accounts at
// bank may start (rules.md §5.3). Under the center guarantee they open with
// the contract. Under individual guarantees a bank opens once it agreed; if
// no bank agreed within IndividualGuaranteeDays, the TSP must fall back to
// the center guarantee, so none opens.
func (c *AdmissionContract) WithdrawalsOpen(bank string) bool {
	if c.Guarantee != GuaranteeIndividual {
		return true
	}
	for _, g := range c.BankGuarantees {
		if g.BankCode == bank && !g.AgreedAt.IsZero() {
			return true
		}
	}
	return false
}

// IndividualDeadline is the end of the 30 days banks have to agree.
func (c *AdmissionContract) IndividualDeadline() time.Time {
	return c.RequestedAt.AddDate(0, 0, IndividualGuaranteeDays)
}

// Note is a remark on a TSP's file: a reviewer's note, a decision's reasons,
// a suspension's reason.
type Note struct {
	ID     int64
	TSPID  int64
	At     time.Time
	Author string
	Kind   string // "note", "decision", "suspension", …
	Rule   string // a Rule.Code, when the note applies one
	Text   string
}

// AdmissionFile is a TSP's whole admission record, read and written as one
// unit so that a workflow step and its audit entry commit together.
type AdmissionFile struct {
	TSP      *TSP
	App      *Application
	Checks   []*FunctionalCheck
	Security []*SecurityItem
	Contract *AdmissionContract // nil until the contract step records it
	Notes    []*Note            // new notes have ID 0 and are appended

	// Set by a step, applied by the store in the same transaction:
	IssueClient      *Client // a client to create (the live credentials at go-live)
	RevokeClients    bool    // revoke every client of the TSP (termination)
	ActivateContract bool    // write the money-movement contract from Contract (go-live, reinstatement)
}

// OpenDeficiencies counts the security items still open.
func (f *AdmissionFile) OpenDeficiencies() int {
	n := 0
	for _, s := range f.Security {
		if s.Open() {
			n++
		}
	}
	return n
}

// Vulnerabilities counts the items the vulnerability part found deficient,
// open or remedied: each adds 10 to the guarantee score (§5.2).
func (f *AdmissionFile) Vulnerabilities() int {
	n := 0
	for _, s := range f.Security {
		if s.Part == SecurityVulnerability {
			n++
		}
	}
	return n
}

// AdmissionSummary is one line of a work queue.
type AdmissionSummary struct {
	TSPID         int64
	TSPName       string
	ClientUseCode string
	State         string
	CompanyName   string
	UpdatedAt     time.Time
}

// AdmissionStore keeps admission files. Every change is written with its
// audit entry in the same transaction.
type AdmissionStore interface {
	// CreateApplicant creates a TSP in TSPSandbox status, its draft
	// application and a portal user, with the audit entry. ECONFLICT if the
	// email is taken.
	CreateApplicant(ctx context.Context, t *TSP, u *PortalUser, e *AuditEntry) error
	// AdmissionFile returns a TSP's file. ENOTFOUND if there is none.
	AdmissionFile(ctx context.Context, tspID int64) (*AdmissionFile, error)
	// UpdateAdmission reads the TSP's file under a lock, lets fn change it,
	// and writes the changed file and fn's audit entry in one transaction.
	// If fn returns an error nothing is written.
	UpdateAdmission(ctx context.Context, tspID int64, fn func(f *AdmissionFile) (*AuditEntry, error)) (*AdmissionFile, error)
	// Queue lists the files in state, oldest change first.
	Queue(ctx context.Context, state string, limit int) ([]*AdmissionSummary, error)
	// SeedAdmission stores f, the complete file of a TSP admitted outside
	// the console (Admissions.Seed), with entries, in one transaction: it
	// creates f.TSP when its ID is 0, then writes the file as UpdateAdmission
	// does. Entries without a subject get the TSP's. ECONFLICT if the TSP
	// already has a file or its client_use_code is taken.
	SeedAdmission(ctx context.Context, f *AdmissionFile, entries []*AuditEntry) error
	// RecordSandboxSuccess records the TSP's first successful sandbox call
	// of api, which ticks its checklist line.
	RecordSandboxSuccess(ctx context.Context, tspID int64, api string, at time.Time) error
}
