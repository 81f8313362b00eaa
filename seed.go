package obx

import (
	"context"
	"fmt"
	"strings"
)

// SeededTSP is a TSP the center admitted without taking it through the
// console, such as the demo's fintechs: what its file is made of.
type SeededTSP struct {
	// TSP is created when its ID is 0; otherwise it is an existing TSP
	// that has no admission file yet (a demo database from before files).
	TSP *TSP
	// App is the application, complete and hitting no eligibility rule.
	App *Application
	// Contract holds the signed terms and the contract accounts, all at the
	// main bank; the guarantee, size class and dates are computed by Seed.
	Contract AdmissionContract
	// Client, if not nil, is created with the file as the TSP's credentials.
	Client *Client
}

// Seed records a TSP admitted outside the console as live with a complete
// file: its application, every workflow step done (submitted, reviewed,
// approved, functional test confirmed for each API applied for, security
// check passed, contract signed, live), the money-movement contract written
// from the admission contract, and its credentials. Each step gets its own
// audit entry by a, all in one transaction, so the file's history reads like
// any other's. From then on the console and the admin API suspend,
// reinstate and terminate the TSP like any other.
//
// Only a system actor may seed: it is for the wiring (the demo's start-up),
// and no handler reaches it. ECONFLICT if the TSP already has a file.
func (s *Admissions) Seed(ctx context.Context, a Actor, in *SeededTSP) (*AdmissionFile, error) {
	if a.System == "" || a.Staff != nil || a.Portal != nil {
		return nil, Errorf(EFORBIDDEN, "Only the hub itself may seed an admitted TSP.")
	}
	if in.TSP == nil || in.App == nil {
		return nil, Errorf(EINVALID, "A seeded TSP needs its TSP and its application.")
	}
	app := *in.App
	if err := app.ValidateForSubmit(); err != nil {
		return nil, err
	}
	if fs := CheckEligibility(&app); len(fs) > 0 {
		return nil, Errorf(EINVALID, "The application hits %s (%s).", fs[0].Rule.Ref, fs[0].Rule.Title)
	}
	c := in.Contract
	var bad []string
	if c.MainBank == "" {
		bad = append(bad, "a main bank")
	}
	if c.DailyWithdrawLimit <= 0 {
		bad = append(bad, "a positive daily withdrawal limit")
	}
	if len(c.Accounts) == 0 || len(c.Accounts) > MaxContractAccounts {
		bad = append(bad, fmt.Sprintf("1 to %d contract accounts", MaxContractAccounts))
	}
	for _, ac := range c.Accounts {
		if ac.BankCode != c.MainBank {
			bad = append(bad, "contract accounts at the main bank")
			break
		}
	}
	if len(bad) > 0 {
		return nil, Errorf(EINVALID, "The contract needs %s.", strings.Join(bad, ", "))
	}

	now, who := s.now(), a.String()
	app.State, app.Decision, app.SubmittedAt = AdmLive, AdmApproved, now
	app.DecisionReasons = "Admitted outside the console by " + who + "."
	t := *in.TSP
	t.Status = TSPActive
	t.SelfAuth = app.SelfCert && ScoreSelfCertification(&app).Eligible
	f := &AdmissionFile{TSP: &t, App: &app, ActivateContract: true, IssueClient: in.Client}
	for _, api := range app.APIs {
		f.Checks = append(f.Checks, &FunctionalCheck{API: api, PassedAt: now, ConfirmedAt: now, ConfirmedBy: who})
	}
	g := ScoreGuarantee(&app, 0)
	c.Large, c.Guarantee, c.GuaranteePercent = app.Large(), GuaranteeCenter, g.Percent
	c.InsuredAmount = InsuredAmount(c.DailyWithdrawLimit, g.Percent)
	c.RequestedAt, c.SignedAt, c.BankGuarantees = now, now, nil
	c.Accounts = append([]ContractAccount(nil), c.Accounts...)
	for i := range c.Accounts {
		if c.Accounts[i].Kind == "" {
			c.Accounts[i].Kind = ContractBoth
		}
	}
	f.Contract = &c
	f.Notes = append(f.Notes, &Note{At: now, Author: who, Kind: "note",
		Text: "Admitted outside the console: every workflow step is recorded as done."})

	step := func(action, before, after, note string) *AuditEntry {
		return &AuditEntry{At: now, Actor: who, Action: action, Before: before, After: after, Note: note}
	}
	entries := []*AuditEntry{
		step("tsp.seed", "", AdmDraft, t.Name),
		step("application.submit", AdmDraft, AdmSubmitted, ""),
		step("application.review", AdmSubmitted, AdmReview, ""),
		step("application.decide", AdmReview, AdmApproved, app.DecisionReasons),
		step("functional.request", AdmApproved, AdmFunctionalTest, ""),
		step("functional.confirm", AdmFunctionalTest, AdmSecurityCheck, strings.Join(app.APIs, " ")),
		step("security.pass", AdmSecurityCheck, AdmContract, ""),
		step("contract.set", AdmContract, AdmContract, fmt.Sprintf("main bank %s, limit %d, guarantee %s %d%% insured %d",
			c.MainBank, c.DailyWithdrawLimit, c.Guarantee, c.GuaranteePercent, c.InsuredAmount)),
		step("tsp.go_live", AdmContract, AdmLive, ""),
	}
	if cl := in.Client; cl != nil {
		if cl.CreatedAt.IsZero() {
			cl.CreatedAt = now
		}
		e := step("client.create", "", cl.Env, cl.Name)
		e.Subject = "client:" + cl.ID
		entries = append(entries, e)
	}
	if err := s.Store.SeedAdmission(ctx, f, entries); err != nil {
		return nil, err
	}
	return f, nil
}
