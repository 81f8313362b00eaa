package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/obxhub/obx"
)

func (s *Server) consoleRoutes(mux *http.ServeMux) {
	c := func(h handler) http.HandlerFunc { return s.wrap("console", true, h) }
	mux.HandleFunc("GET /console/signin", s.wrap("console", false, s.handleSignInForm("console")))
	mux.HandleFunc("POST /console/signin", s.wrap("console", false, s.handleConsoleSignIn))
	mux.HandleFunc("POST /console/signout", c(s.handleSignOut("console")))
	mux.HandleFunc("GET /console/{$}", c(s.handleQueues))
	mux.HandleFunc("GET /console/tsps/{id}", c(s.handleFile))
	mux.HandleFunc("GET /console/tsps/{id}/documents/{doc}", c(s.handleDocument))
	mux.HandleFunc("POST /console/tsps/{id}/{action}", c(s.handleFileAction))
	mux.HandleFunc("POST /console/tsps/{id}/security/{item}/close", c(s.handleCloseDeficiency))
	mux.HandleFunc("POST /console/tsps/{id}/subbusinesses/{num}/{decision}", c(s.handleSubBusinessDecision))
	mux.HandleFunc("GET /console/audit", c(s.handleAudit))
	mux.HandleFunc("GET /console/banks", c(s.handleBanks))
	mux.HandleFunc("POST /console/banks", c(s.handleRegisterBank))
	mux.HandleFunc("POST /console/banks/{code}/maintenance", c(s.handleBankMaintenance))
}

func (s *Server) handleConsoleSignIn(w http.ResponseWriter, r *http.Request, v *visitor) error {
	return s.signIn(w, r, "console", obx.SessionStaff, func(email string) (int64, string, error) {
		u, err := s.Users.StaffByEmail(r.Context(), email)
		if err != nil {
			return 0, "", err
		}
		return u.ID, u.PasswordHash, nil
	})
}

func (s *Server) consolePage(v *visitor, title string, data any) *page {
	return &page{Title: title, Area: "console", User: v.actor.Staff.Name, Role: v.actor.Staff.Role,
		CSRF: s.csrfToken(v.tokenHash), Data: data}
}

// queue is one admission state's work queue.
type queue struct {
	State, Title string
	Count        int
}

// consoleQueues are the queues staff work from, in workflow order.
var consoleQueues = []queue{
	{State: obx.AdmSubmitted, Title: "Submitted"}, {State: obx.AdmReview, Title: "Suitability review"},
	{State: obx.AdmFunctionalTest, Title: "Functional test"}, {State: obx.AdmSecurityCheck, Title: "Security check"},
	{State: obx.AdmContract, Title: "Contract"}, {State: obx.AdmApproved, Title: "Approved (building)"},
	{State: obx.AdmRejected, Title: "Rejected"}, {State: obx.AdmLive, Title: "Live"},
	{State: obx.AdmSuspended, Title: "Suspended"}, {State: obx.AdmTerminated, Title: "Terminated"},
	{State: obx.AdmDraft, Title: "Drafts"},
}

type queuesData struct {
	Queues []queue
	State  string
	Title  string
	Items  []*obx.AdmissionSummary
}

func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request, v *visitor) error {
	counts, err := s.Queues.QueueCounts(r.Context())
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = obx.AdmSubmitted
	}
	d := &queuesData{State: state}
	for _, q := range consoleQueues {
		q.Count = counts[q.State]
		d.Queues = append(d.Queues, q)
		if q.State == state {
			d.Title = q.Title
		}
	}
	if d.Title == "" {
		return obx.Errorf(obx.EINVALID, "No such queue.")
	}
	if d.Items, err = s.Admissions.Store.Queue(r.Context(), state, defaultPageSize); err != nil {
		return err
	}
	p := s.consolePage(v, "Work queues", d)
	p.Flash = r.URL.Query().Get("done")
	s.render(w, r, http.StatusOK, "console_queues", p)
	return nil
}

type fileData struct {
	File          *obx.AdmissionFile
	Steps         []step
	Scores        obx.Scores
	Findings      []obx.Finding
	Clients       []*obx.Client
	SubBusinesses []*obx.SubBusiness
	Docs          []*obx.Document
	History       []*obx.AuditEntry
	Reasons       []obx.Rule
	Review        bool // the user may act on the workflow
	BankCodes     []string
}

func tspID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, obx.Errorf(obx.ENOTFOUND, "No such TSP.")
	}
	return id, nil
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id, err := tspID(r)
	if err != nil {
		return err
	}
	return s.renderFile(w, r, v, id, r.URL.Query().Get("done"), "", http.StatusOK)
}

func (s *Server) renderFile(w http.ResponseWriter, r *http.Request, v *visitor, id int64, flash, msg string, status int) error {
	ctx := r.Context()
	f, err := s.Admissions.File(ctx, v.actor, id)
	if err != nil {
		return err
	}
	d := &fileData{File: f, Steps: stepsOf(f.App.State), Scores: obx.ScoresOf(f), Findings: obx.CheckEligibility(f.App),
		Reasons: obx.SuspensionReasons, Review: v.actor.Staff.Can("review")}
	if d.Clients, err = s.Admissions.Clients(ctx, v.actor, id); err != nil {
		return err
	}
	if d.SubBusinesses, err = s.Admissions.SubBusinesses(ctx, v.actor, id); err != nil {
		return err
	}
	if d.Docs, err = s.Docs.Documents(ctx, id); err != nil {
		return err
	}
	if d.History, err = s.Audit.Audit(ctx, obx.AuditQuery{Subject: fmt.Sprintf("tsp:%d", id), Limit: 200}); err != nil {
		return err
	}
	for _, b := range s.Banks.Banks() {
		d.BankCodes = append(d.BankCodes, b.Code())
	}
	p := s.consolePage(v, f.TSP.Name, d)
	p.Flash, p.Error = flash, msg
	s.render(w, r, status, "console_file", p)
	return nil
}

// actionInput is what a workflow action may need, read from a console form
// or an admin API request.
type actionInput struct {
	Reasons string            `json:"reasons"` // approve, reject
	Text    string            `json:"text"`    // note
	Reason  string            `json:"reason"`  // functional_return; suspend, terminate (a rule code)
	Note    string            `json:"note"`    // suspend, reinstate, terminate
	Part    string            `json:"part"`    // deficiency
	Title   string            `json:"title"`   // deficiency
	Bank    string            `json:"bank"`    // guarantee
	Limit   int64             `json:"limit"`   // guarantee
	Terms   obx.ContractTerms `json:"-"`       // contract
}

// fileAction runs one workflow action on a TSP's file and returns what to
// tell the user. The console's forms and the admin API both come here.
func (s *Server) fileAction(ctx context.Context, a obx.Actor, id int64, action string, in actionInput) (string, error) {
	adm := s.Admissions
	var err error
	var done string
	switch action {
	case "review":
		err, done = ignore(adm.StartReview(ctx, a, id)), "Review started."
	case "approve":
		err, done = ignore(adm.Decide(ctx, a, id, true, in.Reasons)), "Application approved."
	case "reject":
		err, done = ignore(adm.Decide(ctx, a, id, false, in.Reasons)), "Application rejected."
	case "note":
		err, done = ignore(adm.AddNote(ctx, a, id, in.Text)), "Note added."
	case "functional_confirm":
		err, done = ignore(adm.ConfirmFunctionalCheck(ctx, a, id)), "Functional test passed."
	case "functional_return":
		err, done = ignore(adm.ReturnFunctionalCheck(ctx, a, id, in.Reason)), "Functional test returned."
	case "deficiency":
		err, done = ignore(adm.AddDeficiency(ctx, a, id, in.Part, in.Title)), "Deficiency recorded."
	case "security_pass":
		err, done = ignore(adm.PassSecurityCheck(ctx, a, id)), "Security check passed."
	case "contract":
		err, done = ignore(adm.SetContract(ctx, a, id, in.Terms)), "Contract recorded."
	case "guarantee":
		err, done = ignore(adm.AgreeBankGuarantee(ctx, a, id, in.Bank, in.Limit)), "Bank guarantee recorded."
	case "golive":
		err, done = ignore(adm.GoLive(ctx, a, id)), "The TSP is live."
	case "suspend":
		err, done = ignore(adm.Suspend(ctx, a, id, in.Reason, in.Note)), "The TSP is suspended on every replica."
	case "reinstate":
		err, done = ignore(adm.Reinstate(ctx, a, id, in.Note)), "The TSP is live again."
	case "terminate":
		err, done = ignore(adm.Terminate(ctx, a, id, in.Reason, in.Note)), "The TSP is terminated."
	default:
		return "", obx.Errorf(obx.ENOTFOUND, "No such action.")
	}
	return done, err
}

// handleFileAction runs one workflow action from a console form. A refused
// action shows the file again with the reason, and changes nothing.
func (s *Server) handleFileAction(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id, err := tspID(r)
	if err != nil {
		return err
	}
	form := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	in := actionInput{Reasons: form("reasons"), Text: form("text"), Reason: form("reason"), Note: form("note"),
		Part: form("part"), Title: form("title"), Bank: form("bank")}
	action := r.PathValue("action")
	switch action {
	case "contract":
		if in.Terms, err = contractTerms(r); err != nil {
			return s.afterAction(w, r, v, id, err, "")
		}
	case "guarantee":
		if in.Limit, err = parseAmount(form("limit"), "limit"); err != nil {
			return s.afterAction(w, r, v, id, err, "")
		}
	}
	done, err := s.fileAction(r.Context(), v.actor, id, action, in)
	return s.afterAction(w, r, v, id, err, done)
}

// ignore drops a file result, keeping its error.
func ignore(_ *obx.AdmissionFile, err error) error { return err }

func (s *Server) afterAction(w http.ResponseWriter, r *http.Request, v *visitor, id int64, err error, done string) error {
	switch obx.ErrorCode(err) {
	case "":
		http.Redirect(w, r, fmt.Sprintf("/console/tsps/%d?done=%s", id, urlEscape(done)), http.StatusSeeOther)
		return nil
	case obx.EINVALID, obx.ECONFLICT, obx.EFORBIDDEN:
		return s.renderFile(w, r, v, id, "", obx.ErrorMessage(err), pageStatus[obx.ErrorCode(err)])
	}
	return err
}

func parseAmount(v, field string) (int64, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), ",", "")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, obx.Errorf(obx.EINVALID, "The %s must be a whole number of won, at least 0.", field)
	}
	return n, nil
}

func contractTerms(r *http.Request) (obx.ContractTerms, error) {
	t := obx.ContractTerms{MainBank: strings.TrimSpace(r.PostFormValue("main_bank")), Individual: r.PostFormValue("guarantee") == obx.GuaranteeIndividual}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"main_bank_fee", &t.MainBankFee}, {"daily_withdraw_limit", &t.DailyWithdrawLimit}, {"user_daily_limit", &t.UserDailyLimit},
		{"per_transfer_limit", &t.PerTransferLimit}, {"daily_deposit_limit", &t.DailyDepositLimit}} {
		n, err := parseAmount(r.PostFormValue(f.name), strings.ReplaceAll(f.name, "_", " "))
		if err != nil {
			return t, err
		}
		*f.dst = n
	}
	t.Accounts = strings.Fields(r.PostFormValue("accounts"))
	t.Banks = strings.Fields(strings.ReplaceAll(r.PostFormValue("banks"), ",", " "))
	return t, nil
}

func (s *Server) handleCloseDeficiency(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id, err := tspID(r)
	if err != nil {
		return err
	}
	item, err := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err != nil {
		return obx.Errorf(obx.ENOTFOUND, "No such deficiency.")
	}
	_, err = s.Admissions.CloseDeficiency(r.Context(), v.actor, id, item)
	return s.afterAction(w, r, v, id, err, "Deficiency closed.")
}

func (s *Server) handleSubBusinessDecision(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id, err := tspID(r)
	if err != nil {
		return err
	}
	decision := r.PathValue("decision")
	if decision != "approve" && decision != "reject" {
		return obx.Errorf(obx.ENOTFOUND, "No such action.")
	}
	err = s.Admissions.DecideSubBusiness(r.Context(), v.actor, id, r.PathValue("num"), decision == "approve", r.PostFormValue("reason"))
	return s.afterAction(w, r, v, id, err, "Sub-business "+decision+"d.")
}

// handleDocument serves an uploaded document to staff as a download, never
// rendered inline, so a crafted file cannot run in the console's origin.
func (s *Server) handleDocument(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id, err := tspID(r)
	if err != nil {
		return err
	}
	docID, err := strconv.ParseInt(r.PathValue("doc"), 10, 64)
	if err != nil {
		return obx.Errorf(obx.ENOTFOUND, "No such document.")
	}
	d, err := s.Docs.Document(r.Context(), id, docID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.Map(func(c rune) rune {
		if c < 0x20 || c == '"' || c == '\\' || c > 0x7e {
			return '_'
		}
		return c
	}, d.Name)))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Write(d.Data)
	return nil
}

type auditData struct {
	Query    obx.AuditQuery
	Entries  []*obx.AuditEntry
	Verified int64
	Broken   string
	Next     int64
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, v *visitor) error {
	if !v.actor.Staff.Can("audit") {
		return obx.Errorf(obx.EFORBIDDEN, "The audit trail is for auditors and admins.")
	}
	q := r.URL.Query()
	aq := obx.AuditQuery{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Subject: strings.TrimSpace(q.Get("subject")), Limit: defaultPageSize}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return obx.Errorf(obx.EINVALID, "before must be an entry number.")
		}
		aq.Before = n
	}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"from", &aq.From}, {"to", &aq.To}} {
		if v := q.Get(f.key); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				return obx.Errorf(obx.EINVALID, "Dates are YYYY-MM-DD.")
			}
			if f.key == "to" {
				t = t.Add(24*time.Hour - time.Nanosecond)
			}
			*f.dst = t
		}
	}
	d := &auditData{Query: aq}
	var err error
	if d.Entries, err = s.Audit.Audit(r.Context(), aq); err != nil {
		return err
	}
	if len(d.Entries) == aq.Limit {
		d.Next = d.Entries[len(d.Entries)-1].Seq
	}
	if n, err := s.Audit.VerifyAudit(r.Context()); err != nil {
		d.Broken = obx.ErrorMessage(err)
	} else {
		d.Verified = n
	}
	s.render(w, r, http.StatusOK, "console_audit", s.consolePage(v, "Audit trail", d))
	return nil
}

type bankRow struct {
	Code, Name  string
	Connection  string // "simulated", a URL, or "" when configured by flags
	Env         string
	Maintenance string
	Status      *obx.BankStatus
	Err         string
	Pending     bool // registered, not yet connected on this replica
}

type banksData struct {
	Rows  []bankRow
	Admin bool
}

// handleBanks lists the participating banks (those configured by flags and
// those registered in the console) and asks each for its status at once,
// with a short timeout so one slow bank cannot hold the page.
func (s *Server) handleBanks(w http.ResponseWriter, r *http.Request, v *visitor) error {
	ctx := r.Context()
	regs, err := s.Admissions.Registry.RegisteredBanks(ctx)
	if err != nil {
		return err
	}
	windows, err := s.Admissions.Registry.Maintenance(ctx)
	if err != nil {
		return err
	}
	reg := map[string]*obx.BankConfig{}
	for _, b := range regs {
		reg[b.Code] = b
	}
	banks := s.Banks.Banks()
	rows := make([]bankRow, len(banks))
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i, b := range banks {
		rows[i] = bankRow{Code: b.Code(), Name: b.Name()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := b.Status(sctx)
			if err != nil {
				rows[i].Err = obx.ErrorMessage(err)
				return
			}
			rows[i].Status = st
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range rows {
		seen[rows[i].Code] = true
	}
	for _, b := range regs {
		if !seen[b.Code] {
			rows = append(rows, bankRow{Code: b.Code, Name: b.Name, Pending: true})
		}
	}
	for i := range rows {
		if b := reg[rows[i].Code]; b != nil {
			rows[i].Connection, rows[i].Env = b.URL, b.Env
			if b.URL == "" {
				rows[i].Connection = "simulated"
			}
		}
		var parts []string
		for _, w := range windows[rows[i].Code] {
			parts = append(parts, w.String())
		}
		rows[i].Maintenance = strings.Join(parts, ", ")
	}
	p := s.consolePage(v, "Participating banks", &banksData{Rows: rows, Admin: v.actor.Staff.Can("admin")})
	p.Flash = r.URL.Query().Get("done")
	s.render(w, r, http.StatusOK, "console_banks", p)
	return nil
}

// handleRegisterBank handles "POST /console/banks".
func (s *Server) handleRegisterBank(w http.ResponseWriter, r *http.Request, v *visitor) error {
	conn := strings.TrimSpace(r.PostFormValue("connection"))
	if conn == "sim" || conn == "simulated" {
		conn = ""
	}
	b := &obx.BankConfig{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), URL: conn, Env: r.PostFormValue("env")}
	if err := s.Admissions.RegisterBank(r.Context(), v.actor, b); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/banks?done="+urlEscape("Bank "+b.Code+" registered; every replica connects within seconds."), http.StatusSeeOther)
	return nil
}

// handleBankMaintenance handles "POST /console/banks/{code}/maintenance".
func (s *Server) handleBankMaintenance(w http.ResponseWriter, r *http.Request, v *visitor) error {
	code := r.PathValue("code")
	if err := s.Admissions.SetBankMaintenance(r.Context(), v.actor, code, r.PostFormValue("windows")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/banks?done="+urlEscape("Maintenance windows of bank "+code+" saved."), http.StatusSeeOther)
	return nil
}
