package obx_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankguard"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

type admHarness struct {
	db       *sqlstore.DB
	svc      *obx.Admissions
	reviewer obx.Actor
	auditor  obx.Actor
}

var useCodes atomic.Int64

func newAdmissions(t *testing.T, e dbtest.Engine) *admHarness {
	t.Helper()
	db := dbtest.Open(t, e)
	guard := bankguard.Config{Timeout: 5 * time.Second}
	dir := bankguard.New(guard)
	for _, code := range []string{"097", "088"} {
		b, err := banksim.Open(context.Background(), banksim.Config{Code: code, Seed: 1, DSN: filepath.Join(t.TempDir(), code+".db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		dir.Add(guard, b)
	}
	var n atomic.Int64
	svc := &obx.Admissions{Store: db, Banks: dir,
		NewCredentials: func() (string, string) {
			i := n.Add(1)
			return fmt.Sprintf("client-%d", i), fmt.Sprintf("secret-%d", i)
		},
		HashSecret: func(s string) ([]byte, error) { return []byte("hash:" + s), nil },
		NewUseCode: func() string { return fmt.Sprintf("T%09d", useCodes.Add(1)) },
	}
	return &admHarness{db: db, svc: svc,
		reviewer: obx.Actor{Staff: &obx.StaffUser{ID: 1, Email: "rev@center", Role: obx.RoleReviewer}},
		auditor:  obx.Actor{Staff: &obx.StaffUser{ID: 2, Email: "aud@center", Role: obx.RoleAuditor}},
	}
}

// applicant signs a TSP up and returns its portal actor.
func (h *admHarness) applicant(t *testing.T, email string) (obx.Actor, *obx.TSP) {
	t.Helper()
	u := &obx.PortalUser{Email: email, Name: "Kim", PasswordHash: "x"}
	tsp, err := h.svc.SignUp(context.Background(), "Fin "+email, u)
	if err != nil {
		t.Fatal(err)
	}
	return obx.Actor{Portal: u}, tsp
}

func goodApplication(tspID int64) *obx.Application {
	return &obx.Application{TSPID: tspID, CompanyName: "Fin Co", BusinessNum: "1234567890", Category: obx.EligibleEFinance,
		Services: []string{"payment"}, APIs: []string{"/v2.0/user/me", "/v2.0/bank/status"}, ServicePlan: "Pay by account.",
		CreditRating: "A", PaidInCapital: 12_000_000_000, AnnualRevenue: 45_000_000_000, BusinessMonths: 72, ServiceMonths: 72,
		Members: 2_000_000, AnnualTransactions: 20_000_000, Licences: []string{obx.LicencePrepaidDebit},
		AML: true, ComplaintHandling: true, AccountVerification: true, SelfCert: true}
}

// must returns a function that fails t on an error and returns the value,
// so that a call's two results can be passed straight in.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if obx.ErrorCode(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// TestAdmissionWorkflow takes a TSP from sign-up to live, suspension,
// reinstatement and termination, trying each forbidden move on the way.
func TestAdmissionWorkflow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		h := newAdmissions(t, e)
		ok := must[*obx.AdmissionFile](t)
		s, rev := h.svc, h.reviewer
		tsp, tspInfo := h.applicant(t, "a@fin.example")
		other, _ := h.applicant(t, "b@fin.example")
		id := tspInfo.ID

		// Nobody else may see or change the file.
		_, err := s.File(ctx, other, id)
		wantCode(t, "another TSP reads the file", err, obx.ENOTFOUND)
		app := goodApplication(id)
		_, err = s.SaveApplication(ctx, other, app)
		wantCode(t, "another TSP saves", err, obx.ENOTFOUND)
		_, err = s.StartReview(ctx, tsp, id)
		wantCode(t, "a TSP reviews itself", err, obx.EFORBIDDEN)
		_, err = s.StartReview(ctx, h.auditor, id)
		wantCode(t, "an auditor reviews", err, obx.EFORBIDDEN)

		// Draft: incomplete submissions and skipped steps are refused.
		_, err = s.Submit(ctx, tsp, id)
		wantCode(t, "empty submit", err, obx.EINVALID)
		_, err = s.GoLive(ctx, rev, id)
		wantCode(t, "live from draft", err, obx.ECONFLICT)
		_, err = s.StartReview(ctx, rev, id)
		wantCode(t, "review a draft", err, obx.ECONFLICT)
		bad := *app
		bad.BusinessNum = "12"
		_, err = s.SaveApplication(ctx, tsp, &bad)
		wantCode(t, "bad business number", err, obx.EINVALID)

		// An excluded service is flagged and blocks approval.
		withAgency := *app
		withAgency.Services = []string{"payment", "withdrawal_agency"}
		ok(s.SaveApplication(ctx, tsp, &withAgency))
		ok(s.Submit(ctx, tsp, id))
		_, err = s.SaveApplication(ctx, tsp, app)
		wantCode(t, "edit after submit", err, obx.ECONFLICT)
		ok(s.StartReview(ctx, rev, id))
		_, err = s.Decide(ctx, rev, id, true, "")
		if err == nil || !strings.Contains(err.Error(), "§4.3") {
			t.Errorf("approving an excluded service: %v", err)
		}
		_, err = s.Decide(ctx, rev, id, false, "")
		wantCode(t, "rejection without reasons", err, obx.EINVALID)
		f := ok(s.Decide(ctx, rev, id, false, "Withdrawal agency is an excluded service (§4.3)."))
		if f.App.State != obx.AdmRejected || f.App.DecisionReasons == "" {
			t.Fatalf("after rejection: %+v", f.App)
		}
		// The applicant remedies and resubmits.
		ok(s.SaveApplication(ctx, tsp, app))
		ok(s.Submit(ctx, tsp, id))
		ok(s.StartReview(ctx, rev, id))
		ok(s.Decide(ctx, rev, id, true, "Complete."))

		// Functional test: the checklist fills from sandbox successes.
		_, err = s.ConfirmFunctionalCheck(ctx, rev, id)
		wantCode(t, "confirm before request", err, obx.ECONFLICT)
		ok(s.RequestFunctionalCheck(ctx, tsp, id))
		_, err = s.ConfirmFunctionalCheck(ctx, rev, id)
		if obx.ErrorCode(err) != obx.ECONFLICT || !strings.Contains(err.Error(), "/v2.0/user/me") {
			t.Errorf("confirm with no sandbox calls: %v", err)
		}
		ok(s.ReturnFunctionalCheck(ctx, rev, id, "call the APIs first"))
		ok(s.RequestFunctionalCheck(ctx, tsp, id))
		for _, api := range app.APIs {
			if err := h.db.RecordSandboxSuccess(ctx, id, api, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		ok(s.ConfirmFunctionalCheck(ctx, rev, id))

		// Security check: deficiencies must be closed; vulnerabilities count.
		f = ok(s.AddDeficiency(ctx, rev, id, obx.SecurityVulnerability, "PIN stored in plain text"))
		item := f.Security[0].ID
		_, err = s.AddDeficiency(ctx, rev, id, "nope", "x")
		wantCode(t, "bad part", err, obx.EINVALID)
		_, err = s.PassSecurityCheck(ctx, rev, id)
		wantCode(t, "pass with an open item", err, obx.ECONFLICT)
		_, err = s.RemedyDeficiency(ctx, other, id, item, "fixed")
		wantCode(t, "another TSP remedies", err, obx.ENOTFOUND)
		ok(s.RemedyDeficiency(ctx, tsp, id, item, "Encrypted with the platform keystore."))
		ok(s.CloseDeficiency(ctx, rev, id, item))
		_, err = s.CloseDeficiency(ctx, rev, id, item)
		wantCode(t, "close twice", err, obx.ECONFLICT)
		f = ok(s.PassSecurityCheck(ctx, rev, id))
		sc := obx.ScoresOf(f)
		// Deductions: 20 + 15 + 15 + 10 + 10 + 20 + 20 + 30 = 140; one vulnerability adds 10.
		if sc.Guarantee.Total != -130 || sc.Guarantee.Percent != 100 || !sc.SelfCert.Eligible {
			t.Errorf("scores %+v", sc)
		}

		// Contract.
		accts := banksim.DemoTSPAccounts("097")
		terms := obx.ContractTerms{MainBank: "097", MainBankFee: 20, DailyWithdrawLimit: 10_000_000,
			UserDailyLimit: 1_000_000, PerTransferLimit: 500_000, DailyDepositLimit: 10_000_000, Accounts: []string{accts[0].Number}}
		_, err = s.GoLive(ctx, rev, id)
		wantCode(t, "live without a contract", err, obx.ECONFLICT)
		bt := terms
		bt.Accounts = []string{"999999999999"}
		_, err = s.SetContract(ctx, rev, id, bt)
		wantCode(t, "unknown contract account", err, obx.EINVALID)
		bt = terms
		bt.MainBank = "999"
		_, err = s.SetContract(ctx, rev, id, bt)
		wantCode(t, "unknown main bank", err, obx.EINVALID)
		f = ok(s.SetContract(ctx, rev, id, terms))
		if c := f.Contract; c.Guarantee != obx.GuaranteeCenter || c.GuaranteePercent != 100 || c.InsuredAmount != 10_000_000 ||
			!c.Large || c.Accounts[0].HolderName != accts[0].HolderName {
			t.Errorf("center-guarantee contract %+v", c)
		}
		ind := terms
		ind.Individual, ind.Banks = true, []string{"097", "088"}
		ok(s.SetContract(ctx, rev, id, ind))
		f = ok(s.AgreeBankGuarantee(ctx, rev, id, "088", 5_000_000))
		if !f.Contract.WithdrawalsOpen("088") || f.Contract.WithdrawalsOpen("097") {
			t.Errorf("bank-by-bank opening: %+v", f.Contract.BankGuarantees)
		}
		_, err = s.AgreeBankGuarantee(ctx, rev, id, "004", 1)
		wantCode(t, "a bank outside the contract", err, obx.ENOTFOUND)

		// Go live: active, self-auth, a live client, the money contract.
		f = ok(s.GoLive(ctx, rev, id))
		if f.TSP.Status != obx.TSPActive || !f.TSP.SelfAuth {
			t.Errorf("live TSP %+v", f.TSP)
		}
		clients := must[[]*obx.Client](t)(s.Clients(ctx, tsp, id))
		if len(clients) != 1 || clients[0].Env != obx.EnvLive {
			t.Fatalf("clients after go-live: %+v", clients)
		}
		if c, err := h.db.Contract(ctx, id); err != nil || c.DailyWithdrawLimit != 10_000_000 {
			t.Errorf("money contract %+v %v", c, err)
		}
		_, err = s.GoLive(ctx, rev, id)
		wantCode(t, "live twice", err, obx.ECONFLICT)
		// Later steps do not overwrite the money contract, which others may change.
		mc, _ := h.db.Contract(ctx, id)
		mc.DailyWithdrawLimit = 1
		h.db.SetContract(ctx, mc)
		ok(s.AddNote(ctx, rev, id, "checked"))
		if c, _ := h.db.Contract(ctx, id); c.DailyWithdrawLimit != 1 {
			t.Errorf("a note rewrote the contract: %+v", c)
		}

		// Suspension, reinstatement, termination.
		_, err = s.Suspend(ctx, rev, id, "bored", "")
		wantCode(t, "unknown reason", err, obx.EINVALID)
		_, err = s.Suspend(ctx, h.auditor, id, "unpaid_fees", "")
		wantCode(t, "auditor suspends", err, obx.EFORBIDDEN)
		f = ok(s.Suspend(ctx, rev, id, "unpaid_fees", "3 invoices"))
		if tt, _ := h.db.TSP(ctx, id); tt.Status != obx.TSPSuspended || f.Notes[len(f.Notes)-1].Rule != "unpaid_fees" {
			t.Errorf("suspended status %s", tt.Status)
		}
		ok(s.Reinstate(ctx, rev, id, "paid"))
		ok(s.Terminate(ctx, rev, id, "excluded_service", "ran a withdrawal agency"))
		_, err = s.Reinstate(ctx, rev, id, "")
		wantCode(t, "reinstate after termination", err, obx.ECONFLICT)
		if c, _ := h.db.Client(ctx, clients[0].ID); c.RevokedAt.IsZero() {
			t.Error("terminated TSP's live client still usable")
		}
		if _, _, err := s.CreateApp(ctx, tsp, "again", []string{"https://x.example/cb"}); obx.ErrorCode(err) != obx.EFORBIDDEN {
			t.Errorf("app for a terminated TSP: %v", err)
		}

		// Every step is in the audit trail, chained.
		n, err := h.db.VerifyAudit(ctx)
		if err != nil || n < 25 {
			t.Errorf("audit: %d entries, %v", n, err)
		}
		entries := must[[]*obx.AuditEntry](t)(h.db.Audit(ctx, obx.AuditQuery{Subject: fmt.Sprintf("tsp:%d", id), Action: "tsp.", Limit: 10}))
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action+" "+e.Before+"→"+e.After)
		}
		want := "tsp.terminate live→terminated,tsp.reinstate suspended→live,tsp.suspend live→suspended,tsp.go_live contract→live,tsp.sign_up →sandbox"
		if got := strings.Join(actions, ","); got != want {
			t.Errorf("audit actions:\n got %s\nwant %s", got, want)
		}
	})
}

func TestAdmissionCredentials(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		h := newAdmissions(t, e)
		s := h.svc
		tsp, info := h.applicant(t, "c@fin.example")
		other, _ := h.applicant(t, "d@fin.example")
		for _, uris := range [][]string{nil, {"ftp://x/cb"}, {"http://evil.example/cb"}, {"https://x.example/cb#frag"}, {"/relative"}} {
			if _, _, err := s.CreateApp(ctx, tsp, "app", uris); obx.ErrorCode(err) != obx.EINVALID {
				t.Errorf("redirect URIs %v: %v", uris, err)
			}
		}
		c, secret, err := s.CreateApp(ctx, tsp, "My app", []string{"https://x.example/cb", "http://localhost:3000/cb"})
		if err != nil || secret == "" || c.Env != obx.EnvSandbox || c.TSPID != info.ID {
			t.Fatalf("CreateApp: %+v %q %v", c, secret, err)
		}
		_, err = s.RotateSecret(ctx, other, c.ID)
		wantCode(t, "another TSP rotates", err, obx.ENOTFOUND)
		wantCode(t, "another TSP revokes", s.RevokeClient(ctx, other, c.ID, false), obx.ENOTFOUND)
		newSecret := must[string](t)(s.RotateSecret(ctx, tsp, c.ID))
		got := must[*obx.Client](t)(h.db.Client(ctx, c.ID))
		if string(got.SecretHash) != "hash:"+newSecret || string(got.PreviousSecretHash) != "hash:"+secret ||
			got.PreviousSecretUntil.IsZero() {
			t.Errorf("rotated client %+v", got)
		}
		if err := s.RevokeClient(ctx, tsp, c.ID, true); err != nil {
			t.Fatal(err)
		}
		got = must[*obx.Client](t)(h.db.Client(ctx, c.ID))
		if got.RevokedAt.IsZero() || got.PreviousSecretHash != nil {
			t.Errorf("compromised client %+v", got)
		}
		_, err = s.RotateSecret(ctx, tsp, c.ID)
		wantCode(t, "rotate a revoked client", err, obx.ECONFLICT)
		if es, _ := h.db.Audit(ctx, obx.AuditQuery{Action: "client.compromised"}); len(es) != 1 {
			t.Errorf("compromise report not audited: %+v", es)
		}
	})
}

func TestSubBusinessApproval(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		h := newAdmissions(t, e)
		ok := must[*obx.AdmissionFile](t)
		s := h.svc
		tsp, info := h.applicant(t, "e@fin.example")
		sb := &obx.SubBusiness{Num: "S1", Name: "Shop", BusinessNum: "1234567890"}
		// Without an e-finance or financial licence, no sub-businesses.
		wantCode(t, "plain fintech", s.RequestSubBusiness(ctx, tsp, sb), obx.EFORBIDDEN)
		app := goodApplication(info.ID)
		ok(s.SaveApplication(ctx, tsp, app))
		wantCode(t, "bad business number", s.RequestSubBusiness(ctx, tsp, &obx.SubBusiness{Num: "S1", Name: "x", BusinessNum: "1"}), obx.EINVALID)
		if err := s.RequestSubBusiness(ctx, tsp, sb); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "reject without reason", s.DecideSubBusiness(ctx, h.reviewer, info.ID, "S1", false, ""), obx.EINVALID)
		wantCode(t, "TSP approves itself", s.DecideSubBusiness(ctx, tsp, info.ID, "S1", true, ""), obx.EFORBIDDEN)
		if err := s.DecideSubBusiness(ctx, h.reviewer, info.ID, "S1", true, "ok"); err != nil {
			t.Fatal(err)
		}
		got := must[*obx.SubBusiness](t)(h.db.SubBusiness(ctx, info.ID, "S1"))
		got.State = must[[]*obx.SubBusiness](t)(h.db.SubBusinesses(ctx, info.ID))[0].State
		if !got.Approved || got.State != obx.SubApproved {
			t.Errorf("approved sub-business %+v", got)
		}
		wantCode(t, "decide twice", s.DecideSubBusiness(ctx, h.reviewer, info.ID, "S1", false, "no"), obx.ECONFLICT)
	})
}

// TestSeed: only the hub itself seeds an admitted TSP; the file it makes is
// live with every step done, and the TSP can then be suspended like any other.
func TestSeed(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newAdmissions(t, e)
		ctx := context.Background()
		in := func() *obx.SeededTSP {
			return &obx.SeededTSP{TSP: &obx.TSP{Name: "Seeded", ClientUseCode: "T980000001"}, App: goodApplication(0),
				Contract: obx.AdmissionContract{MainBank: "097", DailyWithdrawLimit: 1_000_000,
					Accounts: []obx.ContractAccount{{BankCode: "097", AccountNum: "1234", HolderName: "Seeded"}}},
				Client: &obx.Client{ID: "seeded-client", Name: "app", SecretHash: []byte("h"), Env: obx.EnvSandbox}}
		}
		for _, a := range []obx.Actor{h.reviewer, {}, {System: "x", Staff: h.reviewer.Staff}} {
			if _, err := h.svc.Seed(ctx, a, in()); obx.ErrorCode(err) != obx.EFORBIDDEN {
				t.Errorf("seed by %v: %v", a, err)
			}
		}
		bad := in()
		bad.Contract.Accounts[0].BankCode = "088"
		if _, err := h.svc.Seed(ctx, obx.Actor{System: "test"}, bad); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("account at another bank: %v", err)
		}
		f, err := h.svc.Seed(ctx, obx.Actor{System: "test"}, in())
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.db.AdmissionFile(ctx, f.TSP.ID)
		if err != nil || got.App.State != obx.AdmLive || got.TSP.Status != obx.TSPActive || !got.TSP.SelfAuth ||
			got.Contract == nil || got.Contract.SignedAt.IsZero() || len(got.Checks) != 2 || got.Checks[0].ConfirmedAt.IsZero() {
			t.Fatalf("seeded file %+v %v", got, err)
		}
		if c, err := h.db.Client(ctx, "seeded-client"); err != nil || c.TSPID != f.TSP.ID {
			t.Errorf("seeded client %+v %v", c, err)
		}
		if _, err := h.svc.Seed(ctx, obx.Actor{System: "test"}, &obx.SeededTSP{TSP: f.TSP, App: goodApplication(0),
			Contract: in().Contract}); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("seed twice: %v", err)
		}
		if _, err := h.svc.Suspend(ctx, h.reviewer, f.TSP.ID, "unpaid_fees", ""); err != nil {
			t.Errorf("suspend a seeded TSP: %v", err)
		}
	})
}
