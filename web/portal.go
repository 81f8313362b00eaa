package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

func (s *Server) portalRoutes(mux *http.ServeMux) {
	p := func(need bool, h handler) http.HandlerFunc { return s.wrap("portal", need, h) }
	mux.HandleFunc("GET /portal/{$}", p(true, s.handleDashboard))
	mux.HandleFunc("GET /portal/signup", p(false, s.handleSignUpForm))
	mux.HandleFunc("POST /portal/signup", p(false, s.handleSignUp))
	mux.HandleFunc("GET /portal/signin", p(false, s.handleSignInForm("portal")))
	mux.HandleFunc("POST /portal/signin", p(false, s.handlePortalSignIn))
	mux.HandleFunc("POST /portal/signout", p(true, s.handleSignOut("portal")))
	mux.HandleFunc("GET /portal/reset", p(false, s.handleResetForm))
	mux.HandleFunc("POST /portal/reset", p(false, s.handleResetRequest))
	mux.HandleFunc("POST /portal/reset/confirm", p(false, s.handleResetConfirm))
	mux.HandleFunc("POST /portal/apps", p(true, s.handleCreateApp))
	mux.HandleFunc("POST /portal/apps/{id}/{action}", p(true, s.handleAppAction))
	mux.HandleFunc("GET /portal/application", p(true, s.handleApplicationForm))
	mux.HandleFunc("POST /portal/application", p(true, s.handleSaveApplication))
	mux.HandleFunc("POST /portal/application/submit", p(true, s.handleSubmitApplication))
	mux.HandleFunc("POST /portal/functional/request", p(true, s.handleRequestFunctional))
	mux.HandleFunc("POST /portal/security/{item}/remedy", p(true, s.handleRemedy))
	mux.HandleFunc("POST /portal/documents", p(true, s.handleUpload))
	mux.HandleFunc("POST /portal/subbusinesses", p(true, s.handleRequestSubBusiness))
}

// step is one stage of the admission workflow as the pages show it.
type step struct{ Name, Class string }

// stepsOf renders the workflow's main line with the file's position on it.
func stepsOf(state string) []step {
	line := []string{obx.AdmDraft, obx.AdmSubmitted, obx.AdmReview, obx.AdmApproved, obx.AdmFunctionalTest,
		obx.AdmSecurityCheck, obx.AdmContract, obx.AdmLive}
	at := -1
	for i, st := range line {
		if st == state {
			at = i
		}
	}
	if state == obx.AdmRejected {
		at = 2
	}
	if state == obx.AdmSuspended || state == obx.AdmTerminated {
		at = len(line)
		line = append(line, state)
	}
	var out []step
	for i, st := range line {
		c := ""
		switch {
		case i < at:
			c = "done"
		case i == at:
			c = "now"
		}
		out = append(out, step{Name: strings.ReplaceAll(st, "_", " "), Class: c})
	}
	return out
}

type newSecret struct{ ClientID, Secret string }

type dashboardData struct {
	File          *obx.AdmissionFile
	Steps         []step
	Clients       []*obx.Client
	Findings      []obx.Finding
	Docs          []*obx.Document
	SubBusinesses []*obx.SubBusiness
	NewSecret     *newSecret
	Calls         []*obx.APICall
}

func (s *Server) portalPage(v *visitor, title string, data any) *page {
	return &page{Title: title, Area: "portal", User: v.actor.Portal.Name, CSRF: s.csrfToken(v.tokenHash), Data: data}
}

// dashboard renders the TSP's dashboard, with a flash message or a secret to
// show once.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, v *visitor, flash string, secret *newSecret) error {
	ctx, u := r.Context(), v.actor.Portal
	f, err := s.Admissions.File(ctx, v.actor, u.TSPID)
	if err != nil {
		return err
	}
	d := &dashboardData{File: f, Steps: stepsOf(f.App.State), NewSecret: secret}
	if d.Clients, err = s.Admissions.Clients(ctx, v.actor, u.TSPID); err != nil {
		return err
	}
	if d.Docs, err = s.Docs.Documents(ctx, u.TSPID); err != nil {
		return err
	}
	if d.SubBusinesses, err = s.Admissions.SubBusinesses(ctx, v.actor, u.TSPID); err != nil {
		return err
	}
	if f.App.State != obx.AdmDraft {
		d.Findings = obx.CheckEligibility(f.App)
	}
	if s.Calls != nil {
		if d.Calls, err = s.Calls.RecentCalls(ctx, u.TSPID, 20); err != nil {
			return err
		}
	}
	p := s.portalPage(v, f.TSP.Name, d)
	p.Flash = flash
	s.render(w, r, http.StatusOK, "portal_dashboard", p)
	return nil
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request, v *visitor) error {
	return s.dashboard(w, r, v, r.URL.Query().Get("done"), nil)
}

// redirectDone sends the browser back to the dashboard with a message
// (post/redirect/get, so a reload does not repeat the action).
func redirectDone(w http.ResponseWriter, r *http.Request, to, msg string) error {
	http.Redirect(w, r, to+"?done="+urlEscape(msg), http.StatusSeeOther)
	return nil
}

func urlEscape(s string) string { return url.QueryEscape(s) }

type signUpForm struct{ Company, Name, Phone, Email string }

func (s *Server) handleSignUpForm(w http.ResponseWriter, r *http.Request, v *visitor) error {
	s.render(w, r, http.StatusOK, "signup", &page{Title: "Sign up", Area: "portal", Data: signUpForm{}})
	return nil
}

func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request, v *visitor) error {
	form := signUpForm{Company: r.PostFormValue("company"), Name: r.PostFormValue("name"),
		Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email")}
	password := r.PostFormValue("password")
	fail := func(err error) error {
		code := obx.ErrorCode(err)
		if code != obx.EINVALID && code != obx.ECONFLICT {
			return err
		}
		s.render(w, r, pageStatus[code], "signup", &page{Title: "Sign up", Area: "portal", Error: obx.ErrorMessage(err), Data: form})
		return nil
	}
	if len(password) < MinPasswordLen || len(password) > 200 {
		return fail(obx.Errorf(obx.EINVALID, "The password needs %d to 200 characters.", MinPasswordLen))
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	u := &obx.PortalUser{Email: form.Email, Name: strings.TrimSpace(form.Name), Phone: strings.TrimSpace(form.Phone), PasswordHash: hash}
	if len(u.Phone) > 30 {
		return fail(obx.Errorf(obx.EINVALID, "The phone number is too long."))
	}
	if _, err := s.Admissions.SignUp(r.Context(), form.Company, u); err != nil {
		return fail(err)
	}
	if err := s.startSession(w, r, "portal", obx.SessionPortal, u.ID); err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/", "Welcome! Create an app to get sandbox keys.")
}

func (s *Server) handleSignInForm(area string) handler {
	return func(w http.ResponseWriter, r *http.Request, v *visitor) error {
		if v.tokenHash != "" {
			http.Redirect(w, r, "/"+area+"/", http.StatusSeeOther)
			return nil
		}
		s.render(w, r, http.StatusOK, "signin", &page{Title: "Sign in", Area: area, Data: ""})
		return nil
	}
}

// signIn checks email and password with throttling, and on success starts
// a session. check returns the user's id and hash, or ENOTFOUND.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, area, kind string, check func(email string) (int64, string, error)) error {
	ctx := r.Context()
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	again := func(status int, msg string) error {
		s.render(w, r, status, "signin", &page{Title: "Sign in", Area: area, Error: msg, Data: email})
		return nil
	}
	if email == "" || password == "" || len(email) > 254 || len(password) > 200 {
		return again(http.StatusBadRequest, "Enter your email and password.")
	}
	if blocked, err := s.throttled(ctx, area, email, r); err != nil {
		return err
	} else if blocked {
		return again(http.StatusTooManyRequests, obx.ErrorMessage(errThrottled))
	}
	id, hash, err := check(email)
	if err != nil && obx.ErrorCode(err) != obx.ENOTFOUND {
		return err
	}
	if err != nil {
		CheckPassword(dummyHash, password) // as slow as a real check
	}
	if err != nil || !CheckPassword(hash, password) {
		s.signInFailed(ctx, area, email, r)
		return again(http.StatusUnauthorized, "Wrong email or password.")
	}
	if err := s.startSession(w, r, area, kind, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/"+area+"/", http.StatusSeeOther)
	return nil
}

func (s *Server) handlePortalSignIn(w http.ResponseWriter, r *http.Request, v *visitor) error {
	return s.signIn(w, r, "portal", obx.SessionPortal, func(email string) (int64, string, error) {
		u, err := s.Users.PortalUserByEmail(r.Context(), email)
		if err != nil {
			return 0, "", err
		}
		return u.ID, u.PasswordHash, nil
	})
}

func (s *Server) handleSignOut(area string) handler {
	return func(w http.ResponseWriter, r *http.Request, v *visitor) error {
		if err := s.endSession(w, r, area, v); err != nil {
			return err
		}
		http.Redirect(w, r, "/"+area+"/signin", http.StatusSeeOther)
		return nil
	}
}

func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request, v *visitor) error {
	s.render(w, r, http.StatusOK, "reset", &page{Title: "Reset password", Area: "portal", Data: r.URL.Query().Get("token")})
	return nil
}

// resetToken makes a password-reset link's token: the user's id and expiry,
// signed with HMAC over them and the current password hash, so the link
// works once (the hash changes when it is used) and needs no storage.
func (s *Server) resetToken(u *obx.PortalUser, expires time.Time) string {
	payload := fmt.Sprintf("%d.%d", u.ID, expires.Unix())
	return payload + "." + s.resetMAC(payload, u.PasswordHash)
}

func (s *Server) resetMAC(payload, passwordHash string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("reset\x00" + payload + "\x00" + passwordHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// handleResetRequest logs a reset link for the email (the demo's stand-in
// for mail) and answers the same whether or not the email is known.
func (s *Server) handleResetRequest(w http.ResponseWriter, r *http.Request, v *visitor) error {
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	if u, err := s.Users.PortalUserByEmail(r.Context(), email); err == nil {
		link := s.BaseURL + "/portal/reset?token=" + s.resetToken(u, s.Now().Add(resetLinkTTL))
		if s.Mailer == nil {
			s.Logger.Info("password reset link (no mail relay configured)", "user_id", u.ID, "link", link)
		} else if err := s.Mailer.Send(r.Context(), u.Email, "obx: reset your password",
			"Someone asked to reset the password of your obx developer portal account.\n\n"+
				"To choose a new password, open this link within an hour:\n"+link+"\n\n"+
				"If it was not you, ignore this mail; your password stays as it is.\n"); err != nil {
			s.Logger.Error("send password reset mail", "user_id", u.ID, "err", err)
		}
	} else if obx.ErrorCode(err) != obx.ENOTFOUND {
		return err
	}
	s.render(w, r, http.StatusOK, "signin", &page{Title: "Sign in", Area: "portal",
		Flash: "If that email is signed up, a reset link is on its way.", Data: email})
	return nil
}

func (s *Server) handleResetConfirm(w http.ResponseWriter, r *http.Request, v *visitor) error {
	bad := obx.Errorf(obx.EINVALID, "The reset link is invalid or has expired.")
	parts := strings.Split(r.PostFormValue("token"), ".")
	if len(parts) != 3 {
		return bad
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || s.Now().Unix() > exp {
		return bad
	}
	u, err := s.Users.PortalUser(r.Context(), id)
	if obx.ErrorCode(err) == obx.ENOTFOUND {
		return bad
	} else if err != nil {
		return err
	}
	if !hmac.Equal([]byte(parts[2]), []byte(s.resetMAC(parts[0]+"."+parts[1], u.PasswordHash))) {
		return bad
	}
	password := r.PostFormValue("password")
	if len(password) < MinPasswordLen || len(password) > 200 {
		return obx.Errorf(obx.EINVALID, "The password needs %d to 200 characters.", MinPasswordLen)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.Users.SetPortalPassword(r.Context(), u.ID, hash, &obx.AuditEntry{At: s.Now(), Actor: obx.Actor{Portal: u}.String(),
		Action: "portal_user.reset_password", Subject: fmt.Sprintf("tsp:%d", u.TSPID)}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "signin", &page{Title: "Sign in", Area: "portal", Flash: "Password changed. Sign in with it.", Data: u.Email})
	return nil
}

func (s *Server) handleCreateApp(w http.ResponseWriter, r *http.Request, v *visitor) error {
	var uris []string
	for _, line := range strings.Split(r.PostFormValue("redirect_uris"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			uris = append(uris, line)
		}
	}
	c, secret, err := s.Admissions.CreateApp(r.Context(), v.actor, r.PostFormValue("name"), uris)
	if err != nil {
		return err
	}
	return s.dashboard(w, r, v, "App created with sandbox credentials.", &newSecret{ClientID: c.ID, Secret: secret})
}

func (s *Server) handleAppAction(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id := r.PathValue("id")
	switch r.PathValue("action") {
	case "rotate":
		secret, err := s.Admissions.RotateSecret(r.Context(), v.actor, id)
		if err != nil {
			return err
		}
		return s.dashboard(w, r, v, "New secret issued; the previous one works for 24 hours more.", &newSecret{ClientID: id, Secret: secret})
	case "revoke", "compromised":
		compromised := r.PathValue("action") == "compromised"
		if err := s.Admissions.RevokeClient(r.Context(), v.actor, id, compromised); err != nil {
			return err
		}
		msg := "Credentials revoked."
		if compromised {
			msg = "Compromise reported: the credentials are revoked and the center is informed."
		}
		return redirectDone(w, r, "/portal/", msg)
	}
	return obx.Errorf(obx.ENOTFOUND, "No such action.")
}

type applicationData struct {
	App        *obx.Application
	Categories []string
	Excluded   []obx.Rule
	Services   []obx.Rule
	APIs       []string
	Ratings    []string
	Licences   []string
}

func (s *Server) renderApplication(w http.ResponseWriter, r *http.Request, v *visitor, status int, app *obx.Application, msg, flash string) {
	p := s.portalPage(v, "Production application", &applicationData{App: app, Categories: obx.EligibilityCategories,
		Excluded: obx.ExcludedBusinesses, Services: obx.OfferedServices, APIs: obx.AdmissionAPIs, Ratings: obx.CreditRatings,
		Licences: obx.Licences})
	p.Error, p.Flash = msg, flash
	s.render(w, r, status, "portal_application", p)
}

func (s *Server) handleApplicationForm(w http.ResponseWriter, r *http.Request, v *visitor) error {
	f, err := s.Admissions.File(r.Context(), v.actor, v.actor.Portal.TSPID)
	if err != nil {
		return err
	}
	s.renderApplication(w, r, v, http.StatusOK, f.App, "", r.URL.Query().Get("done"))
	return nil
}

// applicationFromForm reads the form; a malformed number is an EINVALID
// error naming the field.
func applicationFromForm(r *http.Request, tspID int64) (*obx.Application, error) {
	a := &obx.Application{TSPID: tspID, CompanyName: strings.TrimSpace(r.PostFormValue("company_name")),
		BusinessNum: strings.TrimSpace(r.PostFormValue("business_num")), Category: r.PostFormValue("category"),
		Activities: r.PostForm["activities"], Services: r.PostForm["services"], APIs: r.PostForm["apis"],
		ServicePlan: r.PostFormValue("service_plan"), SubBusiness: r.PostFormValue("sub_business") == "1",
		SelfCert: r.PostFormValue("self_cert") == "1", CreditRating: r.PostFormValue("credit_rating"),
		Licences: r.PostForm["licences"], AML: r.PostFormValue("aml") == "1",
		ComplaintHandling: r.PostFormValue("complaint_handling") == "1", AccountVerification: r.PostFormValue("account_verification") == "1"}
	var bad []string
	num := func(field string, dst *int64) {
		v := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(field), ",", ""))
		if v == "" {
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad = append(bad, field)
			return
		}
		*dst = n
	}
	var bm, sm int64
	num("paid_in_capital", &a.PaidInCapital)
	num("annual_revenue", &a.AnnualRevenue)
	num("business_months", &bm)
	num("service_months", &sm)
	num("members", &a.Members)
	num("annual_transactions", &a.AnnualTransactions)
	if bm > 1200 || sm > 1200 {
		bad = append(bad, "months (at most 1200)")
	}
	a.BusinessMonths, a.ServiceMonths = int(bm), int(sm)
	if len(bad) > 0 {
		return a, obx.Errorf(obx.EINVALID, "These must be whole numbers of at least 0: %s.", strings.Join(bad, ", "))
	}
	return a, nil
}

func (s *Server) handleSaveApplication(w http.ResponseWriter, r *http.Request, v *visitor) error {
	a, err := applicationFromForm(r, v.actor.Portal.TSPID)
	if err == nil {
		_, err = s.Admissions.SaveApplication(r.Context(), v.actor, a)
	}
	if code := obx.ErrorCode(err); code == obx.EINVALID || code == obx.ECONFLICT {
		s.renderApplication(w, r, v, pageStatus[code], a, obx.ErrorMessage(err), "")
		return nil
	} else if err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/application", "Draft saved.")
}

func (s *Server) handleSubmitApplication(w http.ResponseWriter, r *http.Request, v *visitor) error {
	if _, err := s.Admissions.Submit(r.Context(), v.actor, v.actor.Portal.TSPID); err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/", "Application submitted. The center reviews it in about a week.")
}

func (s *Server) handleRequestFunctional(w http.ResponseWriter, r *http.Request, v *visitor) error {
	if _, err := s.Admissions.RequestFunctionalCheck(r.Context(), v.actor, v.actor.Portal.TSPID); err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/", "Functional check requested.")
}

func (s *Server) handleRemedy(w http.ResponseWriter, r *http.Request, v *visitor) error {
	id, err := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err != nil {
		return obx.Errorf(obx.ENOTFOUND, "No such deficiency.")
	}
	if _, err := s.Admissions.RemedyDeficiency(r.Context(), v.actor, v.actor.Portal.TSPID, id, r.PostFormValue("remedy")); err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/", "Remedy sent to the center.")
}

// Accepted document types, by their content (http.DetectContentType), not
// by what the browser claims.
var documentTypes = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, v *visitor) error {
	file, hdr, err := r.FormFile("document")
	if err != nil {
		return obx.Errorf(obx.EINVALID, "Choose a file to upload.")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxUploadBytes+1))
	if err != nil {
		return tooLarge(err)
	}
	if len(data) > maxUploadBytes {
		return obx.Errorf(obx.EINVALID, "The upload is larger than %d MB.", maxUploadBytes>>20)
	}
	if len(data) == 0 {
		return obx.Errorf(obx.EINVALID, "The file is empty.")
	}
	ct := http.DetectContentType(data)
	if !documentTypes[ct] {
		return obx.Errorf(obx.EINVALID, "Only PDF, PNG and JPEG files are accepted (this one is %s).", ct)
	}
	name := strings.TrimSpace(hdr.Filename)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || len(name) > 200 {
		name = "document"
	}
	sum := sha256.Sum256(data)
	d := &obx.Document{TSPID: v.actor.Portal.TSPID, Name: name, ContentType: ct, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Data: data}
	if err := s.Docs.AddDocument(r.Context(), d, &obx.AuditEntry{At: s.Now(), Actor: v.actor.String(), Action: "document.upload",
		Subject: fmt.Sprintf("tsp:%d", d.TSPID), Note: fmt.Sprintf("%s %s %d bytes sha256 %s", name, ct, d.Size, d.SHA256)}); err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/", "Document uploaded.")
}

func (s *Server) handleRequestSubBusiness(w http.ResponseWriter, r *http.Request, v *visitor) error {
	sb := &obx.SubBusiness{Num: r.PostFormValue("num"), Name: r.PostFormValue("name"), BusinessNum: strings.TrimSpace(r.PostFormValue("business_num"))}
	if err := s.Admissions.RequestSubBusiness(r.Context(), v.actor, sb); err != nil {
		return err
	}
	return redirectDone(w, r, "/portal/", "Sub-business sent for approval.")
}
