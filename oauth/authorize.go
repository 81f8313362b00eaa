package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/obxhub/obx"
)

// authorizeParams are the parameters of an authorize request that the hub
// keeps for the rest of the flow; everything else (lang, colours, device
// details) is ignored.
var authorizeParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "auth_type", "client_info",
	"code_challenge", "code_challenge_method",
}

// userScopes are the scopes a user can consent to, in display order.
var userScopes = []string{obx.ScopeLogin, obx.ScopeInquiry, obx.ScopeTransfer}

// authRequest is a validated authorize request.
type authRequest struct {
	params url.Values // the kept parameters, scope normalized: what fosite sees at the end
	client *client
	scopes []string
}

// parseAuthorize validates the parameters of an authorize request. Until the
// client and the redirect_uri are known to be good it returns plain errors
// (the error page: never redirect to an unregistered URI); after that,
// *redirectError.
func (s *Server) parseAuthorize(ctx context.Context, in url.Values) (*authRequest, error) {
	c, err := s.store.client(ctx, in.Get("client_id"))
	switch {
	case errors.Is(err, errStore):
		return nil, err
	case err != nil, len(in["client_id"]) > 1:
		return nil, obx.Errorf(obx.EINVALID, "The app (client_id) is not registered with obx.")
	}
	redirect := in.Get("redirect_uri")
	if len(in["redirect_uri"]) > 1 || !slices.Contains(c.c.RedirectURIs, redirect) {
		return nil, obx.Errorf(obx.EINVALID, "The redirect_uri is not one the app registered.")
	}
	u, err := url.Parse(redirect)
	if err != nil || !fosite.IsValidRedirectURI(u) {
		return nil, obx.Errorf(obx.EINVALID, "The app's registered redirect_uri is not a valid URL.")
	}
	state := in.Get("state")
	fail := func(err error) error { return &redirectError{redirectURI: redirect, state: state, err: err} }
	if !fosite.IsRedirectURISecure(ctx, u) {
		return nil, fail(fosite.ErrInvalidRequest.WithHint("The redirect_uri must use https (http only for localhost)."))
	}

	params := url.Values{}
	for _, k := range authorizeParams {
		switch len(in[k]) {
		case 0:
		case 1:
			params.Set(k, in.Get(k))
		default:
			return nil, fail(fmt.Errorf("%w: %q repeated", errParams, k))
		}
	}
	if params.Get("response_type") != "code" {
		return nil, fail(errResponseType)
	}
	// Institution scopes mean nothing in a user's consent; one known client
	// sends "login inquiry transfer oob" here, so they are dropped, not refused.
	var scopes []string
	for _, sc := range scopeList(params.Get("scope")) {
		switch {
		case sc == obx.ScopeOOB || sc == obx.ScopeSA || sc == obx.ScopeProducts:
		case !slices.Contains(userScopes, sc), !slices.Contains(c.c.Scopes, sc):
			return nil, fail(fmt.Errorf("%w: %q", errUnregisteredScope, sc))
		default:
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return nil, fail(fmt.Errorf("%w: no user scope", errParams))
	}
	params.Set("scope", strings.Join(scopes, " "))
	switch params.Get("auth_type") {
	case "", "0", "1", "2":
	default:
		return nil, fail(fmt.Errorf("%w: auth_type %q", errParams, params.Get("auth_type")))
	}
	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	if challenge != "" && method != "S256" || challenge == "" && method != "" {
		return nil, fail(fosite.ErrInvalidRequest.WithHint("PKCE needs code_challenge with code_challenge_method=S256."))
	}
	// fosite checks the rest (state, ...) now rather than after the consent.
	if _, err := s.fositeAuthorize(ctx, params); err != nil {
		return nil, fail(err)
	}
	return &authRequest{params: params, client: c, scopes: scopes}, nil
}

// fositeAuthorize has fosite parse the authorize request params.
func (s *Server) fositeAuthorize(ctx context.Context, params url.Values) (fosite.AuthorizeRequester, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "/oauth/2.0/authorize?"+params.Encode(), nil)
	if err != nil {
		return nil, err
	}
	return s.provider.NewAuthorizeRequest(ctx, r)
}

// handleAuthorize handles "GET /oauth/2.0/authorize" and "GET
// /oauth/2.0/authorize_account": it validates the request, starts a consent
// flow and shows its first page.
//
// auth_type 2 (인증생략) skips the bank sign-in for a user the app already
// knows: with headers Kftc-Bfop-UserSeqNo, Kftc-Bfop-UserCI and
// Kftc-Bfop-AccessToken naming the user and carrying a valid access token that
// this client holds for that user, the flow goes straight to a re-consent for
// all the accounts the user has registered with the TSP (renewing their
// consents for the requested scopes). If the headers do not check out, or the
// user has no registered accounts, the flow falls back to the full sign-in,
// which proves the same thing the long way. auth_type 1 is treated as 0.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := s.parseAuthorize(ctx, r.URL.Query())
	if err != nil {
		return err
	}
	now := s.now().UTC()
	f := &obx.ConsentFlow{
		ID:        newToken(),
		ClientID:  ar.client.c.ID,
		Request:   ar.params.Encode(),
		Step:      stepBank,
		CreatedAt: now,
		ExpiresAt: now.Add(flowTTL),
	}
	if ar.params.Get("auth_type") == "2" {
		if u, ok := s.knownUser(ctx, r, ar.client); ok {
			f.Step, f.UserSeqNo, f.UserCI = stepConfirm, u.SeqNo, u.CI
		}
	}
	csrf, binding := newToken(), newToken()
	f.CSRFHash, f.BindingHash = hashToken(csrf), hashToken(binding)
	if err := s.flows.CreateConsentFlow(ctx, f); err != nil {
		return err
	}
	http.SetCookie(w, flowCookie(r, f.ID, binding, int(flowTTL.Seconds())))
	fc := &flowContext{flow: f, csrf: csrf, client: ar.client, params: ar.params}
	return s.showStep(w, r, fc, "")
}

// knownUser checks the auth_type 2 headers and returns the user they name.
func (s *Server) knownUser(ctx context.Context, r *http.Request, c *client) (*obx.User, bool) {
	seq := r.Header.Get("Kftc-Bfop-UserSeqNo")
	ci := r.Header.Get("Kftc-Bfop-UserCI")
	token := strings.TrimSpace(r.Header.Get("Kftc-Bfop-AccessToken"))
	if seq == "" || ci == "" || token == "" {
		return nil, false
	}
	p, err := s.Introspect(ctx, token)
	if err != nil || p.ClientID != c.c.ID || p.UserSeqNo != seq {
		s.logger.Info("auth_type 2 headers rejected; full authentication", "client_id", c.c.ID, "err", describe(err))
		return nil, false
	}
	u, err := s.accounts.User(ctx, seq)
	if err != nil || subtle.ConstantTimeCompare([]byte(u.CI), []byte(ci)) != 1 {
		s.logger.Info("auth_type 2 user mismatch; full authentication", "client_id", c.c.ID, "err", describe(err))
		return nil, false
	}
	accts, err := s.accounts.Accounts(ctx, c.tsp.ID, seq, false)
	if err != nil || len(accts) == 0 {
		return nil, false
	}
	return u, true
}

// registration returns the Registration of a consent given now.
func (s *Server) registration(c *client, scopes []string, bankCode string, u obx.User, accts []obx.BankAccount) *obx.Registration {
	now := s.now().UTC()
	return &obx.Registration{
		TSPID:         c.tsp.ID,
		ClientUseCode: c.tsp.ClientUseCode,
		User:          u,
		BankCode:      bankCode,
		Accounts:      accts,
		Inquiry:       slices.Contains(scopes, obx.ScopeInquiry),
		Transfer:      slices.Contains(scopes, obx.ScopeTransfer),
		AgreedAt:      now,
		ExpiresAt:     now.Add(s.consentTTL),
	}
}

// userFromCustomer is the hub's user as the bank knows them.
func userFromCustomer(c *obx.BankCustomer) obx.User {
	return obx.User{CI: c.CI, Name: c.Name, BirthDate: c.BirthDate, Gender: c.Gender, CellNo: c.CellNo, Email: c.Email}
}

// issueCode applies the consent and sends the browser back to the client with
// a fresh authorization code: 302 to redirect_uri?code&scope&state&client_info.
// params are the kept authorize parameters; fosite validates them once more,
// so a client revoked during the flow gets nothing.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, params url.Values, regs []*obx.Registration) error {
	ctx := r.Context()
	fail := func(err error) error {
		return &redirectError{redirectURI: params.Get("redirect_uri"), state: params.Get("state"), err: err}
	}
	far, err := s.fositeAuthorize(ctx, params)
	if errors.Is(err, fosite.ErrInvalidClient) {
		return obx.WrapError(obx.EINVALID, "The app (client_id) is no longer registered with obx.", err)
	} else if err != nil {
		return fail(err)
	}
	var user *obx.User
	for _, reg := range regs {
		if user, _, err = s.accounts.Register(ctx, reg); err != nil {
			return fail(fosite.ErrServerError.WithWrap(err))
		}
	}
	if user == nil {
		return fail(fosite.ErrServerError.WithHint("no registration"))
	}
	for _, sc := range far.GetRequestedScopes() {
		far.GrantScope(sc)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, far, &session{UserSeqNo: user.SeqNo})
	if err != nil {
		return fail(err)
	}
	q := url.Values{}
	for _, k := range []string{"code", "scope", "state"} {
		q.Set(k, resp.GetParameters().Get(k))
	}
	q.Set("client_info", params.Get("client_info"))
	s.logger.Info("authorization code issued", "client_id", far.GetClient().GetID(), "user_seq_no", user.SeqNo,
		"scope", q.Get("scope"))
	http.Redirect(w, r, withQuery(params.Get("redirect_uri"), q), http.StatusFound)
	return nil
}

// handleSandboxAuthorize handles "POST /oauth/2.0/sandbox/authorize", the
// headless consent for scripted clients of the sandbox (registered only when
// Config.Sandbox). Its form carries the authorize parameters plus
// bank_code_std, login and password (a sandbox login at that bank),
// account_num (repeated or comma-separated; default: all the customer's open
// accounts at the bank) and agree=Y|N. It ends with the same 302 as the
// browser flow. Only clients of the sandbox environment may use it.
func (s *Server) handleSandboxAuthorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return obx.WrapError(obx.EINVALID, "The form could not be read.", err)
	}
	ar, err := s.parseAuthorize(ctx, r.PostForm)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		return &redirectError{redirectURI: ar.params.Get("redirect_uri"), state: ar.params.Get("state"), err: err}
	}
	if ar.client.c.Env != obx.EnvSandbox {
		return fail(fosite.ErrUnauthorizedClient.WithHint("Headless consent is for sandbox clients only."))
	}
	switch r.PostForm.Get("agree") {
	case "Y":
	case "N":
		return fail(errAccessDenied)
	default:
		return fail(fmt.Errorf("%w: agree must be Y or N", errParams))
	}
	bank, err := s.banks.Bank(r.PostForm.Get("bank_code_std"))
	if err != nil {
		return fail(fmt.Errorf("%w: bank_code_std: %w", errParams, err))
	}
	cust, err := bank.SignIn(ctx, r.PostForm.Get("login"), r.PostForm.Get("password"))
	if obx.ErrorCode(err) == obx.EUNAUTHORIZED {
		return fail(fmt.Errorf("%w: bank sign-in failed", errAccessDenied))
	} else if err != nil {
		return fail(fosite.ErrTemporarilyUnavailable.WithWrap(err))
	}
	var nums []string
	for _, v := range r.PostForm["account_num"] {
		nums = append(nums, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	var accts []obx.BankAccount
	for _, a := range cust.Accounts {
		if !a.Closed && (len(nums) == 0 || slices.Contains(nums, a.Number)) {
			accts = append(accts, a)
		}
	}
	if len(accts) == 0 || len(nums) > 0 && len(accts) != len(nums) {
		return fail(fmt.Errorf("%w: account_num does not name the customer's open accounts", errParams))
	}
	reg := s.registration(ar.client, ar.scopes, bank.Code(), userFromCustomer(cust), accts)
	return s.issueCode(w, r, ar.params, []*obx.Registration{reg})
}
