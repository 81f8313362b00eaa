package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// The admin API (/console/api/v1/) lets the center automate everything the
// console does, through the same service methods, with the same roles and
// the same audit trail. A staff member exchanges email and password for a
// bearer token (a console session, throttled like the sign-in page); the
// API takes no cookies, so it needs no CSRF protection. Errors are JSON
// with the domain error code and the HTTP status of the console's pages.

func (s *Server) apiRoutes(mux *http.ServeMux) {
	const p = "/console/api/v1"
	mux.HandleFunc("POST "+p+"/sessions", s.api(false, s.apiSignIn))
	mux.HandleFunc("GET "+p+"/queues/{state}", s.api(true, s.apiQueue))
	mux.HandleFunc("GET "+p+"/tsps/{id}", s.api(true, s.apiFile))
	mux.HandleFunc("POST "+p+"/tsps/{id}/{action}", s.api(true, s.apiAction))
	mux.HandleFunc("POST "+p+"/tsps/{id}/security/{item}/close", s.api(true, s.apiCloseDeficiency))
	mux.HandleFunc("POST "+p+"/tsps/{id}/subbusinesses/{num}/{decision}", s.api(true, s.apiSubBusiness))
	mux.HandleFunc("GET "+p+"/audit", s.api(true, s.apiAudit))
}

type apiHandler func(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error)

// api authenticates the bearer token (when need), limits and decodes
// nothing itself, and writes the handler's value or error as JSON.
func (s *Server) api(need bool, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		var a obx.Actor
		if need {
			var err error
			if a, err = s.bearer(r); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="obx-console"`)
				s.apiError(w, r, err)
				return
			}
		}
		v, err := h(w, r, a)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) bearer(r *http.Request) (obx.Actor, error) {
	unauth := obx.Errorf(obx.EUNAUTHORIZED, "A valid bearer token from POST /console/api/v1/sessions is required.")
	h := r.Header.Get("Authorization")
	if len(h) < 8 || !strings.EqualFold(h[:7], "Bearer ") {
		return obx.Actor{}, unauth
	}
	sess, err := s.Users.Session(r.Context(), hashToken(strings.TrimSpace(h[7:])), s.Now())
	if obx.ErrorCode(err) == obx.ENOTFOUND || (err == nil && sess.Kind != obx.SessionStaff) {
		return obx.Actor{}, unauth
	}
	if err != nil {
		return obx.Actor{}, err
	}
	u, err := s.Users.Staff(r.Context(), sess.UserID)
	if err != nil {
		return obx.Actor{}, unauth
	}
	return obx.Actor{Staff: u}, nil
}

type apiErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := obx.ErrorCode(err)
	status, ok := pageStatus[code]
	if !ok {
		code, status = obx.EINTERNAL, http.StatusInternalServerError
		s.Logger.Error("internal error", "route", r.Pattern, "err", err)
	}
	writeJSON(w, status, apiErrorBody{Error: code, Message: obx.ErrorMessage(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors, so a typo is not silently ignored.
func decode(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return obx.Errorf(obx.EINVALID, "The request body is too large.")
		}
		return obx.WrapError(obx.EINVALID, "The request body is not valid JSON for this API: "+err.Error(), err)
	}
	if dec.More() {
		return obx.Errorf(obx.EINVALID, "The request body has data after its JSON object.")
	}
	return nil
}

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Role      string    `json:"role"`
}

// apiSignIn handles "POST /console/api/v1/sessions".
func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request, _ obx.Actor) (any, error) {
	var in signInRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ctx, email := r.Context(), strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" || in.Password == "" || len(email) > 254 || len(in.Password) > 200 {
		return nil, obx.Errorf(obx.EINVALID, "email and password are required.")
	}
	if blocked, err := s.throttled(ctx, "console", email, r); err != nil {
		return nil, err
	} else if blocked {
		return nil, errThrottled
	}
	u, err := s.Users.StaffByEmail(ctx, email)
	if err != nil && obx.ErrorCode(err) != obx.ENOTFOUND {
		return nil, err
	}
	if err != nil {
		CheckPassword(dummyHash, in.Password)
	}
	if err != nil || !CheckPassword(u.PasswordHash, in.Password) {
		s.signInFailed(ctx, "console", email, r)
		return nil, obx.Errorf(obx.EUNAUTHORIZED, "Wrong email or password.")
	}
	var b [32]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.Now().UTC()
	sess := &obx.WebSession{TokenHash: hashToken(token), Kind: obx.SessionStaff, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := s.Users.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return sessionResponse{Token: token, ExpiresAt: sess.ExpiresAt, Role: u.Role}, nil
}

type summaryJSON struct {
	TSPID         int64     `json:"tsp_id,string"` // ids exceed 2^53: strings, so JavaScript clients keep them exact
	Name          string    `json:"name"`
	ClientUseCode string    `json:"client_use_code"`
	State         string    `json:"state"`
	CompanyName   string    `json:"company_name"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// apiQueue handles "GET /console/api/v1/queues/{state}".
func (s *Server) apiQueue(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	state := r.PathValue("state")
	if !contains(obx.AdmissionStates, state) {
		return nil, obx.Errorf(obx.EINVALID, "No such state; one of %s.", strings.Join(obx.AdmissionStates, ", "))
	}
	items, err := s.Admissions.Store.Queue(r.Context(), state, defaultPageSize)
	if err != nil {
		return nil, err
	}
	out := []summaryJSON{}
	for _, i := range items {
		out = append(out, summaryJSON{TSPID: i.TSPID, Name: i.TSPName, ClientUseCode: i.ClientUseCode, State: i.State,
			CompanyName: i.CompanyName, UpdatedAt: i.UpdatedAt})
	}
	return out, nil
}

type scoreLineJSON struct {
	Item   string `json:"item"`
	Value  string `json:"value"`
	Points int    `json:"points"`
	Max    int    `json:"max"`
	Note   string `json:"note,omitempty"`
}

type findingJSON struct {
	Rule   string `json:"rule"`
	Ref    string `json:"ref"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

type checkJSON struct {
	API         string     `json:"api"`
	PassedAt    *time.Time `json:"passed_at"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
}

type securityJSON struct {
	ID       int64      `json:"id,string"`
	Part     string     `json:"part"`
	Title    string     `json:"title"`
	Remedy   string     `json:"remedy"`
	Open     bool       `json:"open"`
	ClosedAt *time.Time `json:"closed_at"`
}

type contractJSON struct {
	MainBank           string   `json:"main_bank"`
	MainBankFee        int64    `json:"main_bank_fee"`
	DailyWithdrawLimit int64    `json:"daily_withdraw_limit"`
	UserDailyLimit     int64    `json:"user_daily_limit"`
	PerTransferLimit   int64    `json:"per_transfer_limit"`
	DailyDepositLimit  int64    `json:"daily_deposit_limit"`
	Large              bool     `json:"large"`
	Guarantee          string   `json:"guarantee"`
	GuaranteePercent   int      `json:"guarantee_percent"`
	InsuredAmount      int64    `json:"insured_amount"`
	Accounts           []string `json:"accounts_masked"`
	Signed             bool     `json:"signed"`
}

type fileJSON struct {
	TSPID         int64           `json:"tsp_id,string"` // ids exceed 2^53: strings, so JavaScript clients keep them exact
	Name          string          `json:"name"`
	ClientUseCode string          `json:"client_use_code"`
	Status        string          `json:"status"`
	State         string          `json:"state"`
	Decision      string          `json:"decision"`
	Reasons       string          `json:"decision_reasons"`
	Findings      []findingJSON   `json:"findings"`
	SelfCert      []scoreLineJSON `json:"self_certification"`
	SelfCertTotal int             `json:"self_certification_total"`
	SelfCertOK    bool            `json:"self_certification_eligible"`
	Guarantee     []scoreLineJSON `json:"guarantee"`
	GuaranteeSum  int             `json:"guarantee_total"`
	GuaranteePct  int             `json:"guarantee_percent"`
	Checks        []checkJSON     `json:"functional_checks"`
	Security      []securityJSON  `json:"security_items"`
	Contract      *contractJSON   `json:"contract"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func lines(ls []obx.ScoreLine) []scoreLineJSON {
	out := []scoreLineJSON{}
	for _, l := range ls {
		out = append(out, scoreLineJSON{Item: l.Item, Value: l.Value, Points: l.Points, Max: l.Max, Note: l.Note})
	}
	return out
}

func fileView(f *obx.AdmissionFile) fileJSON {
	sc := obx.ScoresOf(f)
	out := fileJSON{TSPID: f.TSP.ID, Name: f.TSP.Name, ClientUseCode: f.TSP.ClientUseCode, Status: f.TSP.Status,
		State: f.App.State, Decision: f.App.Decision, Reasons: f.App.DecisionReasons, Findings: []findingJSON{},
		SelfCert: lines(sc.SelfCert.Lines), SelfCertTotal: sc.SelfCert.Total, SelfCertOK: sc.SelfCert.Eligible,
		Guarantee: lines(sc.Guarantee.Lines), GuaranteeSum: sc.Guarantee.Total, GuaranteePct: sc.Guarantee.Percent,
		Checks: []checkJSON{}, Security: []securityJSON{}}
	for _, fi := range obx.CheckEligibility(f.App) {
		out.Findings = append(out.Findings, findingJSON{Rule: fi.Rule.Code, Ref: fi.Rule.Ref, Title: fi.Rule.Title, Detail: fi.Detail})
	}
	for _, c := range f.Checks {
		out.Checks = append(out.Checks, checkJSON{API: c.API, PassedAt: timePtr(c.PassedAt), ConfirmedAt: timePtr(c.ConfirmedAt)})
	}
	for _, it := range f.Security {
		out.Security = append(out.Security, securityJSON{ID: it.ID, Part: it.Part, Title: it.Title, Remedy: it.Remedy,
			Open: it.Open(), ClosedAt: timePtr(it.ClosedAt)})
	}
	if c := f.Contract; c != nil {
		cj := &contractJSON{MainBank: c.MainBank, MainBankFee: c.MainBankFee, DailyWithdrawLimit: c.DailyWithdrawLimit,
			UserDailyLimit: c.UserDailyLimit, PerTransferLimit: c.PerTransferLimit, DailyDepositLimit: c.DailyDepositLimit,
			Large: c.Large, Guarantee: c.Guarantee, GuaranteePercent: c.GuaranteePercent, InsuredAmount: c.InsuredAmount,
			Accounts: []string{}, Signed: !c.SignedAt.IsZero()}
		for _, a := range c.Accounts {
			cj.Accounts = append(cj.Accounts, obx.MaskAccountNum(a.AccountNum))
		}
		out.Contract = cj
	}
	return out
}

// apiFile handles "GET /console/api/v1/tsps/{id}".
func (s *Server) apiFile(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	id, err := tspID(r)
	if err != nil {
		return nil, err
	}
	f, err := s.Admissions.File(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	return fileView(f), nil
}

// actionRequest is the body of a workflow action; each action reads the
// fields it needs (see actionInput), and "contract" reads the terms.
type actionRequest struct {
	actionInput
	MainBank           string   `json:"main_bank"`
	MainBankFee        int64    `json:"main_bank_fee"`
	DailyWithdrawLimit int64    `json:"daily_withdraw_limit"`
	UserDailyLimit     int64    `json:"user_daily_limit"`
	PerTransferLimit   int64    `json:"per_transfer_limit"`
	DailyDepositLimit  int64    `json:"daily_deposit_limit"`
	Accounts           []string `json:"accounts"`
	Guarantee          string   `json:"guarantee"` // "center" (default) or "individual"
	Banks              []string `json:"banks"`
}

type actionResponse struct {
	Done string   `json:"done"`
	File fileJSON `json:"file"`
}

// apiAction handles "POST /console/api/v1/tsps/{id}/{action}": the same
// actions as the console's buttons.
func (s *Server) apiAction(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	id, err := tspID(r)
	if err != nil {
		return nil, err
	}
	var in actionRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Guarantee != "" && in.Guarantee != obx.GuaranteeCenter && in.Guarantee != obx.GuaranteeIndividual {
		return nil, obx.Errorf(obx.EINVALID, "guarantee must be center or individual.")
	}
	in.Terms = obx.ContractTerms{MainBank: in.MainBank, MainBankFee: in.MainBankFee, DailyWithdrawLimit: in.DailyWithdrawLimit,
		UserDailyLimit: in.UserDailyLimit, PerTransferLimit: in.PerTransferLimit, DailyDepositLimit: in.DailyDepositLimit,
		Accounts: in.Accounts, Individual: in.Guarantee == obx.GuaranteeIndividual, Banks: in.Banks}
	done, err := s.fileAction(r.Context(), a, id, r.PathValue("action"), in.actionInput)
	if err != nil {
		return nil, err
	}
	return s.afterAPI(r.Context(), a, id, done)
}

func (s *Server) afterAPI(ctx context.Context, a obx.Actor, id int64, done string) (any, error) {
	f, err := s.Admissions.File(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return actionResponse{Done: done, File: fileView(f)}, nil
}

// apiCloseDeficiency handles "POST /console/api/v1/tsps/{id}/security/{item}/close".
func (s *Server) apiCloseDeficiency(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	id, err := tspID(r)
	if err != nil {
		return nil, err
	}
	item, err := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err != nil {
		return nil, obx.Errorf(obx.ENOTFOUND, "No such deficiency.")
	}
	if _, err := s.Admissions.CloseDeficiency(r.Context(), a, id, item); err != nil {
		return nil, err
	}
	return s.afterAPI(r.Context(), a, id, "Deficiency closed.")
}

// apiSubBusiness handles "POST /console/api/v1/tsps/{id}/subbusinesses/{num}/{approve|reject}".
func (s *Server) apiSubBusiness(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	id, err := tspID(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	d := r.PathValue("decision")
	if d != "approve" && d != "reject" {
		return nil, obx.Errorf(obx.ENOTFOUND, "No such action.")
	}
	if err := s.Admissions.DecideSubBusiness(r.Context(), a, id, r.PathValue("num"), d == "approve", in.Reason); err != nil {
		return nil, err
	}
	return s.afterAPI(r.Context(), a, id, "Sub-business "+d+"d.")
}

type auditJSON struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Subject  string    `json:"subject"`
	Before   string    `json:"before"`
	After    string    `json:"after"`
	Note     string    `json:"note"`
	Hash     string    `json:"hash"`
	PrevHash string    `json:"prev_hash"`
}

// apiAudit handles "GET /console/api/v1/audit?actor=&action=&subject=&before=".
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	if !a.Staff.Can("audit") {
		return nil, obx.Errorf(obx.EFORBIDDEN, "The audit trail is for auditors and admins.")
	}
	q := r.URL.Query()
	aq := obx.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action"), Subject: q.Get("subject"), Limit: defaultPageSize}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return nil, obx.Errorf(obx.EINVALID, "before must be an entry number.")
		}
		aq.Before = n
	}
	entries, err := s.Audit.Audit(r.Context(), aq)
	if err != nil {
		return nil, err
	}
	out := []auditJSON{}
	for _, e := range entries {
		out = append(out, auditJSON{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Subject: e.Subject,
			Before: e.Before, After: e.After, Note: e.Note, Hash: e.Hash, PrevHash: e.PrevHash})
	}
	return out, nil
}
