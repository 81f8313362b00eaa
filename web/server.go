// Package web is the hub's browser side for people: the developer portal,
// where a TSP signs up, gets sandbox credentials and applies for production,
// and the operator console, where the center's staff take applications
// through the admission workflow, suspend TSPs and read the audit trail.
//
// Pages are server-rendered with html/template and need no JavaScript: the
// Content-Security-Policy allows no script at all. Every state-changing
// request is a POST protected twice against cross-site request forgery:
// net/http's CrossOriginProtection refuses cross-origin browser requests
// (Sec-Fetch-Site / Origin), and every form carries a token bound to the
// session (HMAC-SHA256 of the session under the hub's key). Sessions live in
// the database, so any replica serves any browser. Passwords are argon2id
// hashes; failed sign-ins are throttled per account and per address.
package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/web.css
var styleCSS []byte

// Mailer sends an email. package smtpmail implements it.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Queues counts the files in each admission state. *sqlstore.DB implements it.
type Queues interface {
	QueueCounts(ctx context.Context) (map[string]int, error)
}

// Documents keeps application documents. *sqlstore.DB implements it.
type Documents interface {
	AddDocument(ctx context.Context, d *obx.Document, e *obx.AuditEntry) error
	Documents(ctx context.Context, tspID int64) ([]*obx.Document, error)
	Document(ctx context.Context, tspID, id int64) (*obx.Document, error)
}

// Server serves the portal and the console. Set the fields, then Register.
type Server struct {
	Admissions *obx.Admissions
	Users      obx.UserStore
	Audit      obx.AuditStore
	Queues     Queues
	Docs       Documents
	Calls      obx.CallLog // optional: the TSPs' recent API calls
	Banks      obx.BankDirectory
	// Settlements, if set, puts settlement cycles in the console and the
	// admin API.
	Settlements *obx.Settlements
	Logger      *slog.Logger
	Now         func() time.Time
	// Key signs CSRF tokens and password-reset links; every replica must
	// share it (the hub keeps it in its secrets table).
	Key []byte
	// SecureCookies marks session cookies Secure; on whenever the hub is
	// served over HTTPS (anywhere but local development).
	SecureCookies bool
	// BaseURL is the hub's public URL, for password-reset links.
	BaseURL string
	// Mailer sends password-reset links; without one (the demo) they are
	// written to the log.
	Mailer Mailer

	pages map[string]*template.Template
	cop   *http.CrossOriginProtection
}

// Session lifetimes and sign-in throttling.
const (
	sessionTTL      = 8 * time.Hour
	throttleWindow  = 15 * time.Minute
	throttleMax     = 5 // failures per account, and per address × 4, within the window
	maxFormBytes    = 64 << 10
	maxUploadBytes  = 5 << 20
	cookiePortal    = "obx_portal"
	cookieConsole   = "obx_console"
	resetLinkTTL    = time.Hour
	csrfField       = "csrf_token"
	defaultPageSize = 100
)

// Register implements the http package's Mounter.
func (s *Server) Register(mux *http.ServeMux) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.cop = http.NewCrossOriginProtection()
	s.pages = map[string]*template.Template{}
	layout := template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		s.pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	mux.HandleFunc("GET /web/static/web.css", s.handleStyle)
	s.portalRoutes(mux)
	s.consoleRoutes(mux)
	s.apiRoutes(mux)
	s.settlementRoutes(mux)
}

var funcs = template.FuncMap{
	"krw": func(v int64) string { return groupDigits(v) + " KRW" },
	"num": groupDigits,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join":   strings.Join,
	"has":    func(list []string, v string) bool { return contains(list, v) },
	"masked": obx.MaskAccountNum,
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// groupDigits renders 1234567 as "1,234,567".
func groupDigits(v int64) string {
	d := strconv.FormatInt(v, 10)
	sign := ""
	if v < 0 {
		sign, d = "-", d[1:]
	}
	var b strings.Builder
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(d[i])
	}
	return sign + b.String()
}

func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(styleCSS)
}

// setPageHeaders sets the security headers of every page: no script at all,
// styles only from our sheet, forms only to ourselves, never framed or cached.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// page is the data every template gets.
type page struct {
	Title   string
	Area    string // "portal" or "console"
	User    string // the signed-in user's name, or ""
	Role    string
	CSRF    string
	Error   string
	Flash   string
	Data    any
	request *http.Request
}

// visitor is who is making a request: nobody, a portal user or a staff member.
type visitor struct {
	actor     obx.Actor
	tokenHash string // the session's, "" when not signed in
}

// handler is a page handler; wrap renders its error.
type handler func(w http.ResponseWriter, r *http.Request, v *visitor) error

// wrap applies, in order: the security headers, cross-origin protection on
// unsafe methods, the session of area, sign-in when need says so, the CSRF
// token on every POST from a session, and rendering of h's error.
func (s *Server) wrap(area string, need bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		if err := s.cop.Check(r); err != nil {
			s.renderError(w, r, area, obx.Errorf(obx.EFORBIDDEN, "Cross-origin requests are refused."))
			return
		}
		v, err := s.visitor(r, area)
		if err != nil {
			s.renderError(w, r, area, err)
			return
		}
		if need && v.tokenHash == "" {
			http.Redirect(w, r, "/"+area+"/signin", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && v.tokenHash != "" {
			r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes+maxFormBytes)
			got := r.Header.Get("X-CSRF-Token")
			if got == "" {
				if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
					if err := r.ParseMultipartForm(1 << 20); err != nil {
						s.renderError(w, r, area, tooLarge(err))
						return
					}
				}
				got = r.PostFormValue(csrfField)
			}
			want := s.csrfToken(v.tokenHash)
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				s.renderError(w, r, area, obx.Errorf(obx.EFORBIDDEN, "The form has expired or was not sent by this site. Reload the page and try again."))
				return
			}
		} else if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		if err := h(w, r, v); err != nil {
			s.renderError(w, r, area, err)
		}
	}
}

func tooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return obx.Errorf(obx.EINVALID, "The upload is larger than %d MB.", maxUploadBytes>>20)
	}
	return obx.WrapError(obx.EINVALID, "The form could not be read.", err)
}

// csrfToken derives the session's CSRF token: HMAC-SHA256 of the session's
// token hash under the hub's key. It needs no storage and dies with the session.
func (s *Server) csrfToken(sessionHash string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("csrf\x00" + sessionHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func cookieName(area string) string {
	if area == "console" {
		return cookieConsole
	}
	return cookiePortal
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// visitor loads the session of area from its cookie, if any. A portal
// cookie never signs anyone into the console, nor the reverse.
func (s *Server) visitor(r *http.Request, area string) (*visitor, error) {
	v := &visitor{}
	c, err := r.Cookie(cookieName(area))
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return v, nil
	}
	th := hashToken(c.Value)
	sess, err := s.Users.Session(r.Context(), th, s.Now())
	if obx.ErrorCode(err) == obx.ENOTFOUND {
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case area == "console" && sess.Kind == obx.SessionStaff:
		u, err := s.Users.Staff(r.Context(), sess.UserID)
		if err != nil {
			return v, nil
		}
		v.actor.Staff = u
	case area == "portal" && sess.Kind == obx.SessionPortal:
		u, err := s.Users.PortalUser(r.Context(), sess.UserID)
		if err != nil {
			return v, nil
		}
		v.actor.Portal = u
	default:
		return v, nil
	}
	v.tokenHash = th
	return v, nil
}

// startSession signs a user in: a new random token in the cookie, its hash
// in the database.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, area, kind string, userID int64) error {
	var b [32]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.Now().UTC()
	if err := s.Users.CreateSession(r.Context(), &obx.WebSession{TokenHash: hashToken(token), Kind: kind, UserID: userID,
		CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(area), Value: token, Path: "/" + area + "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL.Seconds())})
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, area string, v *visitor) error {
	if v.tokenHash != "" {
		if err := s.Users.DeleteSession(r.Context(), v.tokenHash); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(area), Value: "", Path: "/" + area + "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return nil
}

// throttled reports whether sign-in for email from r's address is blocked:
// too many recent failures for the account, or many more from the address.
func (s *Server) throttled(ctx context.Context, area, email string, r *http.Request) (bool, error) {
	n, err := s.Users.SignInFailures(ctx, area+":user:"+email, s.Now(), throttleWindow)
	if err != nil || n >= throttleMax {
		return n >= throttleMax, err
	}
	n, err = s.Users.SignInFailures(ctx, area+":ip:"+clientIP(r), s.Now(), throttleWindow)
	return n >= 4*throttleMax, err
}

func (s *Server) signInFailed(ctx context.Context, area, email string, r *http.Request) {
	if _, err := s.Users.SignInFailure(ctx, area+":user:"+email, s.Now(), throttleWindow); err != nil {
		s.Logger.Warn("record sign-in failure", "err", err)
	}
	if _, err := s.Users.SignInFailure(ctx, area+":ip:"+clientIP(r), s.Now(), throttleWindow); err != nil {
		s.Logger.Warn("record sign-in failure", "err", err)
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errThrottled is the answer to a throttled sign-in.
var errThrottled = obx.Errorf(obx.ELIMIT, "Too many failed sign-ins. Wait 15 minutes and try again.")

// render writes a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.request == nil {
		p.request = r
	}
	var buf bytes.Buffer
	t, ok := s.pages[name]
	if !ok {
		s.Logger.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Logger.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageStatus maps domain error codes to the pages' HTTP status codes.
var pageStatus = map[string]int{
	obx.EINVALID:      http.StatusBadRequest,
	obx.EUNAUTHORIZED: http.StatusUnauthorized,
	obx.EFORBIDDEN:    http.StatusForbidden,
	obx.ENOTFOUND:     http.StatusNotFound,
	obx.ECONFLICT:     http.StatusConflict,
	obx.ELIMIT:        http.StatusTooManyRequests,
	obx.EUNAVAILABLE:  http.StatusServiceUnavailable,
	obx.ETIMEOUT:      http.StatusGatewayTimeout,
}

// renderError shows err's client-safe message on an error page. Internal
// errors are logged and shown without their cause.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, area string, err error) {
	code := obx.ErrorCode(err)
	status, ok := pageStatus[code]
	if !ok {
		status = http.StatusInternalServerError
		s.Logger.Error("internal error", "route", r.Pattern, "err", err)
	}
	s.render(w, r, status, "error", &page{Title: "Something went wrong", Area: area, Error: obx.ErrorMessage(err)})
}
