package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// kst is the zone of the dates the consent pages show.
var kst = time.FixedZone("KST", 9*60*60)

// flowCookiePrefix names a flow's binding cookie; the flow id follows, so that
// flows in several tabs do not overwrite one another.
const flowCookiePrefix = "obx_flow_"

// newToken returns 128 random bits as 26 base32 characters (A–Z, 2–7): flow
// ids, CSRF tokens and cookie values.
func newToken() string { return rand.Text() }

// validToken reports whether s has the shape of a newToken value.
func validToken(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

func hashToken(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// tokenMatches compares a presented token with a stored hash in constant time.
func tokenMatches(token string, hash []byte) bool {
	return subtle.ConstantTimeCompare(hashToken(token), hash) == 1
}

// flowCookie is the cookie binding a flow to the browser that started it.
func flowCookie(r *http.Request, id, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     flowCookiePrefix + id,
		Value:    value,
		Path:     "/oauth/2.0/consent/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	}
}

// flowContext is a loaded, verified consent flow.
type flowContext struct {
	flow   *obx.ConsentFlow
	csrf   string // the CSRF token, as the form carried it, for the next page
	client *client
	params url.Values // the kept authorize parameters
}

func (fc *flowContext) scopes() []string { return strings.Fields(fc.params.Get("scope")) }

// redirectError returns err to be reported to the client by redirect.
func (fc *flowContext) redirectError(err error) error {
	return &redirectError{redirectURI: fc.params.Get("redirect_uri"), state: fc.params.Get("state"), err: err}
}

var errFlowGone = obx.Errorf(obx.ENOTFOUND,
	"This consent session has ended or expired. Go back to the app and start again.")

// loadFlow reads the form of a consent page POST and returns its flow, after
// checking the flow cookie and the CSRF token against the flow's hashes.
func (s *Server) loadFlow(w http.ResponseWriter, r *http.Request) (*flowContext, error) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, obx.WrapError(obx.EINVALID, "The form could not be read.", err)
	}
	id, csrf := r.PostForm.Get("flow"), r.PostForm.Get("csrf_token")
	if !validToken(id) {
		return nil, errFlowGone
	}
	f, err := s.flows.ConsentFlow(ctx, id)
	if obx.ErrorCode(err) == obx.ENOTFOUND {
		return nil, errFlowGone
	} else if err != nil {
		return nil, err
	}
	if !s.now().Before(f.ExpiresAt) {
		return nil, errFlowGone
	}
	cookie, err := r.Cookie(flowCookiePrefix + id)
	if err != nil || !tokenMatches(cookie.Value, f.BindingHash) || !tokenMatches(csrf, f.CSRFHash) {
		return nil, obx.Errorf(obx.EFORBIDDEN, "This request could not be verified. Go back to the app and start again.")
	}
	c, err := s.store.client(ctx, f.ClientID)
	if errors.Is(err, errStore) {
		return nil, err
	} else if err != nil {
		return nil, obx.WrapError(obx.EINVALID, "The app is no longer registered with obx.", err)
	}
	params, err := url.ParseQuery(f.Request)
	if err != nil {
		return nil, fmt.Errorf("consent flow request: %w", err)
	}
	return &flowContext{flow: f, csrf: csrf, client: c, params: params}, nil
}

// saveFlow stores the flow's changes.
func (s *Server) saveFlow(r *http.Request, fc *flowContext) error {
	err := s.flows.UpdateConsentFlow(r.Context(), fc.flow)
	switch obx.ErrorCode(err) {
	case obx.ENOTFOUND:
		return errFlowGone
	case obx.ECONFLICT:
		return obx.WrapError(obx.ECONFLICT, "This page was submitted twice. Go back to the app and start again.", err)
	}
	return err
}

// endFlow deletes the flow (at most once) and its cookie.
func (s *Server) endFlow(w http.ResponseWriter, r *http.Request, fc *flowContext) error {
	err := s.flows.DeleteConsentFlow(r.Context(), fc.flow.ID, fc.flow.Version)
	switch obx.ErrorCode(err) {
	case obx.ENOTFOUND:
		return errFlowGone
	case obx.ECONFLICT:
		return obx.WrapError(obx.ECONFLICT, "This page was submitted twice. Go back to the app and start again.", err)
	case "":
		http.SetCookie(w, flowCookie(r, fc.flow.ID, "", -1))
		return nil
	}
	return err
}

// stepAtLeast reports whether the flow has reached step.
func stepAtLeast(f *obx.ConsentFlow, step string) bool {
	order := []string{stepBank, stepSignIn, stepAccounts, stepConfirm}
	return slices.Index(order, f.Step) >= slices.Index(order, step)
}

var errWrongStep = obx.Errorf(obx.EINVALID, "This page is out of order. Go back to the app and start again.")

// handleConsentBank handles "POST /oauth/2.0/consent/bank": the chosen bank
// (bank_code_std). An empty choice goes back to the bank list.
func (s *Server) handleConsentBank(w http.ResponseWriter, r *http.Request) error {
	fc, err := s.loadFlow(w, r)
	if err != nil {
		return err
	}
	f := fc.flow
	if f.UserSeqNo != "" {
		return errWrongStep
	}
	f.Step, f.BankCode, f.UserCI, f.AccountNums = stepBank, "", "", nil
	msg := ""
	if code := r.PostForm.Get("bank_code_std"); code != "" {
		if _, err := s.banks.Bank(code); err != nil {
			msg = "선택한 은행을 찾을 수 없습니다. The bank could not be found."
		} else {
			f.Step, f.BankCode = stepSignIn, code
		}
	}
	if err := s.saveFlow(r, fc); err != nil {
		return err
	}
	return s.showStep(w, r, fc, msg)
}

// handleConsentSignIn handles "POST /oauth/2.0/consent/signin": the bank login
// and password. Each flow allows maxSignIns attempts; an attempt is counted
// before the bank is asked, so concurrent posts cannot exceed the limit, and
// the flow ends (access_denied) when they are used up.
func (s *Server) handleConsentSignIn(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	fc, err := s.loadFlow(w, r)
	if err != nil {
		return err
	}
	f := fc.flow
	if f.UserSeqNo != "" || f.BankCode == "" || !stepAtLeast(f, stepSignIn) {
		return errWrongStep
	}
	bank, err := s.banks.Bank(f.BankCode)
	if err != nil {
		return err
	}
	login, password := strings.TrimSpace(r.PostForm.Get("login")), r.PostForm.Get("password")
	if login == "" || password == "" {
		return s.showStep(w, r, fc, "아이디와 비밀번호를 입력하세요. Enter your user ID and password.")
	}
	if f.Attempts >= maxSignIns {
		return s.tooManySignIns(w, r, fc)
	}
	f.Attempts++
	f.Step, f.UserCI, f.AccountNums = stepSignIn, "", nil
	if err := s.saveFlow(r, fc); err != nil {
		return err
	}
	cust, err := bank.SignIn(ctx, login, password)
	switch {
	case obx.ErrorCode(err) == obx.EUNAUTHORIZED:
		if f.Attempts >= maxSignIns {
			return s.tooManySignIns(w, r, fc)
		}
		return s.showStepLogin(w, r, fc, login, "아이디 또는 비밀번호가 올바르지 않습니다. The user ID or password is wrong.")
	case err != nil:
		s.logger.Warn("bank sign-in failed", "bank_code", f.BankCode, "client_id", f.ClientID, "err", describe(err))
		return s.showStepLogin(w, r, fc, login, "은행에 연결할 수 없습니다. 잠시 후 다시 시도하세요. The bank is not available; try again later.")
	}
	f.Step, f.UserCI = stepAccounts, cust.CI
	if err := s.saveFlow(r, fc); err != nil {
		return err
	}
	return s.showStep(w, r, fc, "")
}

// tooManySignIns ends the flow and reports access_denied to the client.
func (s *Server) tooManySignIns(w http.ResponseWriter, r *http.Request, fc *flowContext) error {
	if err := s.endFlow(w, r, fc); err != nil {
		return err
	}
	s.logger.Info("consent flow ended after too many bank sign-ins", "client_id", fc.flow.ClientID, "bank_code", fc.flow.BankCode)
	return fc.redirectError(fmt.Errorf("%w: too many failed bank sign-ins", errAccessDenied))
}

// handleConsentAccounts handles "POST /oauth/2.0/consent/accounts": the chosen
// accounts, as the opaque references the page gave them.
func (s *Server) handleConsentAccounts(w http.ResponseWriter, r *http.Request) error {
	fc, err := s.loadFlow(w, r)
	if err != nil {
		return err
	}
	f := fc.flow
	if f.UserSeqNo != "" || f.UserCI == "" || !stepAtLeast(f, stepAccounts) {
		return errWrongStep
	}
	cust, err := s.customer(r, f)
	if err != nil {
		return err
	}
	refs := r.PostForm["account"]
	var nums []string
	for _, a := range cust.Accounts {
		if !a.Closed && slices.Contains(refs, accountRef(a)) {
			nums = append(nums, a.Number)
		}
	}
	if len(nums) == 0 || len(nums) != len(refs) {
		f.Step, f.AccountNums = stepAccounts, nil
		if err := s.saveFlow(r, fc); err != nil {
			return err
		}
		return s.showStep(w, r, fc, "등록할 계좌를 하나 이상 선택하세요. Choose at least one account.")
	}
	f.Step, f.AccountNums = stepConfirm, nums
	if err := s.saveFlow(r, fc); err != nil {
		return err
	}
	return s.showStep(w, r, fc, "")
}

// handleConsentDecide handles "POST /oauth/2.0/consent/decide": decision=agree
// on the summary page issues the code; decision=refuse, from any page, ends
// the flow with access_denied.
func (s *Server) handleConsentDecide(w http.ResponseWriter, r *http.Request) error {
	fc, err := s.loadFlow(w, r)
	if err != nil {
		return err
	}
	switch r.PostForm.Get("decision") {
	case "agree":
	case "refuse":
		if err := s.endFlow(w, r, fc); err != nil {
			return err
		}
		return fc.redirectError(fmt.Errorf("%w: the customer refused", errAccessDenied))
	default:
		return obx.Errorf(obx.EINVALID, "Choose agree or refuse.")
	}
	if fc.flow.Step != stepConfirm {
		return errWrongStep
	}
	regs, err := s.flowRegistrations(r, fc)
	if err != nil {
		return err
	}
	if err := s.endFlow(w, r, fc); err != nil {
		return err
	}
	return s.issueCode(w, r, fc.params, regs)
}

// flowRegistrations returns what agreeing to the flow registers: the selected
// accounts at the chosen bank, or (a re-consent) every account the user
// registered with the TSP, one Registration per bank.
func (s *Server) flowRegistrations(r *http.Request, fc *flowContext) ([]*obx.Registration, error) {
	ctx := r.Context()
	f := fc.flow
	if f.UserSeqNo != "" {
		u, err := s.accounts.User(ctx, f.UserSeqNo)
		if err != nil {
			return nil, err
		}
		accts, err := s.accounts.Accounts(ctx, fc.client.tsp.ID, f.UserSeqNo, false)
		if err != nil {
			return nil, err
		}
		var regs []*obx.Registration
		byBank := map[string]*obx.Registration{}
		for _, a := range accts {
			reg := byBank[a.BankCode]
			if reg == nil {
				reg = s.registration(fc.client, fc.scopes(), a.BankCode, *u, nil)
				byBank[a.BankCode] = reg
				regs = append(regs, reg)
			}
			reg.Accounts = append(reg.Accounts, obx.BankAccount{
				BankCode: a.BankCode, BranchCode: a.BranchCode, Number: a.Number, Seq: a.Seq,
				HolderName: a.HolderName, HolderType: a.HolderType, Type: a.Type,
			})
		}
		if len(regs) == 0 {
			return nil, obx.Errorf(obx.EINVALID, "You have no registered accounts to renew. Go back to the app and start again.")
		}
		return regs, nil
	}
	cust, err := s.customer(r, f)
	if err != nil {
		return nil, err
	}
	var accts []obx.BankAccount
	for _, a := range cust.Accounts {
		if !a.Closed && slices.Contains(f.AccountNums, a.Number) {
			accts = append(accts, a)
		}
	}
	if len(accts) == 0 || len(accts) != len(f.AccountNums) {
		return nil, obx.Errorf(obx.EINVALID, "The selected accounts are no longer available. Go back to the app and start again.")
	}
	return []*obx.Registration{s.registration(fc.client, fc.scopes(), f.BankCode, userFromCustomer(cust), accts)}, nil
}

// customer returns the signed-in customer of the flow, as their bank knows them now.
func (s *Server) customer(r *http.Request, f *obx.ConsentFlow) (*obx.BankCustomer, error) {
	bank, err := s.banks.Bank(f.BankCode)
	if err != nil {
		return nil, err
	}
	cust, err := bank.Customer(r.Context(), f.UserCI)
	if err != nil {
		return nil, fmt.Errorf("bank %s customer: %w", f.BankCode, err)
	}
	return cust, nil
}

// accountRef is the opaque reference of an account on the accounts page, so
// that the page and its form never carry the account number.
func accountRef(a obx.BankAccount) string {
	h := sha256.Sum256([]byte(a.BankCode + "\x00" + a.Number + "\x00" + a.Seq))
	return hex.EncodeToString(h[:8])
}

// showStep renders the page of the flow's current step, with an error message
// if msg is not empty.
func (s *Server) showStep(w http.ResponseWriter, r *http.Request, fc *flowContext, msg string) error {
	return s.showStepLogin(w, r, fc, "", msg)
}

// showStepLogin is showStep, pre-filling the login field of the sign-in page.
func (s *Server) showStepLogin(w http.ResponseWriter, r *http.Request, fc *flowContext, login, msg string) error {
	f := fc.flow
	d := &pageData{
		Error: msg, Flow: f.ID, CSRF: fc.csrf,
		ClientName: fc.client.c.Name, TSPName: fc.client.tsp.Name,
		Login: login, AttemptsLeft: max(0, maxSignIns-f.Attempts),
	}
	if f.BankCode != "" {
		if b, err := s.banks.Bank(f.BankCode); err == nil {
			d.BankName = b.Name()
		}
	}
	switch f.Step {
	case stepBank:
		for _, b := range s.banks.Banks() {
			d.Banks = append(d.Banks, bankOption{Code: b.Code(), Name: b.Name(), Selected: b.Code() == f.BankCode})
		}
	case stepSignIn:
	case stepAccounts:
		cust, err := s.customer(r, f)
		if err != nil {
			return err
		}
		for _, a := range cust.Accounts {
			if a.Closed {
				continue
			}
			d.Accounts = append(d.Accounts, accountOption{Ref: accountRef(a), Masked: obx.MaskAccountNum(a.Number),
				BankName: d.BankName, Product: a.ProductName, Holder: a.HolderName, Checked: len(cust.Accounts) == 1})
		}
	case stepConfirm:
		regs, err := s.flowRegistrations(r, fc)
		if err != nil {
			return err
		}
		for _, reg := range regs {
			name := reg.BankCode
			if b, err := s.banks.Bank(reg.BankCode); err == nil {
				name = b.Name()
			}
			for _, a := range reg.Accounts {
				d.Accounts = append(d.Accounts, accountOption{Masked: obx.MaskAccountNum(a.Number), BankName: name, Product: a.ProductName})
			}
		}
		for _, sc := range userScopes {
			if slices.Contains(fc.scopes(), sc) {
				d.Scopes = append(d.Scopes, scopeTexts[sc])
			}
		}
		d.Renewal = f.UserSeqNo != ""
		now := s.now().In(kst)
		d.AccessUntil = now.Add(s.accessTTL).Format("2006-01-02")
		d.ConsentUntil = now.Add(s.consentTTL).Format("2006-01-02")
	default:
		return fmt.Errorf("consent flow %s: unknown step %q", f.ID, f.Step)
	}
	return s.render(w, http.StatusOK, f.Step, d)
}
