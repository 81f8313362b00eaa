package oauth

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/obxhub/obx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/consent.css
var styleCSS []byte

// Consent flow steps (obx.ConsentFlow.Step), in page order.
const (
	stepBank     = "bank"
	stepSignIn   = "signin"
	stepAccounts = "accounts"
	stepConfirm  = "confirm"
)

// parsePages parses every page with the layout, once, at start-up.
func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template)
	for _, name := range []string{stepBank, stepSignIn, stepAccounts, stepConfirm, "error"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// pageData is what the consent pages show. Fields a page does not use stay zero.
type pageData struct {
	Sandbox bool
	Error   string // shown above the page's form
	Message string // the error page's message

	Flow string // the flow id and CSRF token every form carries
	CSRF string

	ClientName, TSPName string
	Banks               []bankOption
	BankName            string
	Login               string
	AttemptsLeft        int
	Accounts            []accountOption
	Scopes              []scopeText
	Renewal             bool
	AccessUntil         string
	ConsentUntil        string
}

type bankOption struct {
	Code, Name string
	Selected   bool
}

type accountOption struct {
	Ref      string // an opaque reference: the form never carries the account number
	Masked   string
	BankName string
	Product  string
	Holder   string
	Checked  bool
}

// scopeText says in plain words what a scope lets the app do.
type scopeText struct{ Name, Korean, English string }

var scopeTexts = map[string]scopeText{
	obx.ScopeLogin: {obx.ScopeLogin,
		"내 회원 정보(이름, 연락처)와 등록한 계좌 목록을 조회",
		"See your profile (name, contact details) and the list of accounts you registered"},
	obx.ScopeInquiry: {obx.ScopeInquiry,
		"선택한 계좌의 잔액과 거래내역을 조회",
		"See the balances and transactions of the selected accounts"},
	obx.ScopeTransfer: {obx.ScopeTransfer,
		"선택한 계좌에서 출금 (이체할 때마다 앱에서 요청)",
		"Withdraw money from the selected accounts, whenever the app asks"},
}

// setPageHeaders sets the security headers of every browser response. The
// pages need no script, so the CSP allows none, and styles only from the
// embedded sheet. form-action is left out: browsers apply it to the final
// redirect to the app, which is on another origin.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, status int, page string, data *pageData) error {
	data.Sandbox = s.sandbox
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// handleStyle serves "GET /oauth/2.0/static/consent.css".
func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(styleCSS)
}

// redirectError is a failure of an authorize request whose client and
// redirect_uri are valid, so it is reported to the client by redirect.
type redirectError struct {
	redirectURI string
	state       string
	err         error
}

func (e *redirectError) Error() string { return "authorize: " + e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// page adapts a browser handler: security headers on every response; a
// *redirectError becomes the error redirect to the client; any other error
// the error page.
func (s *Server) page(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		err := fn(w, r)
		if err == nil {
			return
		}
		var re *redirectError
		if errors.As(err, &re) {
			s.redirectWithError(w, r, re)
			return
		}
		s.errorPage(w, r, err)
	})
}

// redirectWithError sends the browser back to the client with error,
// error_description and state.
func (s *Server) redirectWithError(w http.ResponseWriter, r *http.Request, re *redirectError) {
	wire, internal := toWire(re.err)
	if internal {
		s.logger.Error("authorize failed", "path", r.URL.Path, "err", describe(re.err))
	} else {
		s.logger.Info("authorize refused", "path", r.URL.Path, "oauth_error", wire.OAuth, "err", describe(re.err))
	}
	q := url.Values{"error": {wire.OAuth}, "error_description": {wire.RspMessage}}
	if re.state != "" {
		q.Set("state", re.state)
	}
	http.Redirect(w, r, withQuery(re.redirectURI, q), http.StatusFound)
}

// withQuery adds q to the query of the registered redirect URI u.
func withQuery(u string, q url.Values) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u // cannot happen: u was validated against the registration
	}
	all := parsed.Query()
	for k, v := range q {
		all[k] = v
	}
	parsed.RawQuery = all.Encode()
	return parsed.String()
}

var pageStatus = map[string]int{
	obx.EINVALID:      http.StatusBadRequest,
	obx.EUNAUTHORIZED: http.StatusUnauthorized,
	obx.EFORBIDDEN:    http.StatusForbidden,
	obx.ENOTFOUND:     http.StatusNotFound,
	obx.ECONFLICT:     http.StatusConflict,
	obx.EUNAVAILABLE:  http.StatusServiceUnavailable,
	obx.ETIMEOUT:      http.StatusServiceUnavailable,
}

// errorPage renders err: its client-safe message, and a status by its code.
// Internal errors are logged and shown generically.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	status, ok := pageStatus[obx.ErrorCode(err)]
	if !ok {
		status = http.StatusInternalServerError
		s.logger.Error("consent page failed", "path", r.URL.Path, "err", describe(err))
	}
	if rerr := s.render(w, status, "error", &pageData{Message: obx.ErrorMessage(err)}); rerr != nil {
		s.logger.Error("render error page", "err", rerr)
	}
}
