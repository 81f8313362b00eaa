package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankguard"
	"github.com/obxhub/obx/banksim"
	obxhttp "github.com/obxhub/obx/http"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/sqlstore"
	"github.com/obxhub/obx/web"
)

// testHub is the whole hub (KFTC API, OAuth, portal and console) on a fresh
// SQLite database with two banks, one sandbox and one live, over real HTTP.
type testHub struct {
	db    *sqlstore.DB
	srv   *httptest.Server
	log   *strings.Builder
	calls *sqlstore.Calls
	mail  *outbox
}

// outbox is a web.Mailer that keeps what it is asked to send.
type outbox struct {
	mu   sync.Mutex
	sent []string // "to\nsubject\nbody"
}

func (o *outbox) Send(_ context.Context, to, subject, body string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, to+"\n"+subject+"\n"+body)
	return nil
}

func (o *outbox) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		return ""
	}
	return o.sent[len(o.sent)-1]
}

const staffPassword = "correct horse battery"

func newHub(t testing.TB) *testHub {
	t.Helper()
	return newHubOn(t, dbtest.Engines()[0])
}

// newHubOn is newHub on a database of engine e.
func newHubOn(t testing.TB, e dbtest.Engine) *testHub {
	t.Helper()
	ctx := context.Background()
	h := &testHub{db: dbtest.Open(t, e), log: &strings.Builder{}, mail: &outbox{}}
	guard := bankguard.Config{Timeout: 5 * time.Second}
	dir := bankguard.New(guard)
	// 097 stands for the simulated banks of the sandbox, 088 for a live connection.
	for code, env := range map[string]string{"097": obx.EnvSandbox, "088": obx.EnvLive} {
		b, err := banksim.Open(ctx, banksim.Config{Code: code, Seed: 1, DSN: filepath.Join(t.TempDir(), code+".db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		g := guard
		g.Env = env
		dir.Add(g, b)
	}
	o, err := oauth.New(oauth.Config{Participants: h.db, Accounts: h.db, Tokens: h.db, Flows: h.db, Banks: dir,
		Secret: []byte("0123456789abcdef0123456789abcdef"), Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{b: h.log}, nil))
	adm := &obx.Admissions{Store: h.db, Banks: dir, Registry: h.db, Now: time.Now, NewCredentials: oauth.NewClientCredentials,
		HashSecret: oauth.HashSecret, NewUseCode: func() string { return fmt.Sprintf("T%09d", useCodes.Add(1)) }}
	h.calls = sqlstore.NewCalls(h.db, logger)
	t.Cleanup(h.calls.Close)
	w := &web.Server{Mailer: h.mail, Calls: h.calls, Admissions: adm, Users: h.db, Audit: h.db, Queues: h.db, Docs: h.db, Banks: dir, Logger: logger,
		Key:         []byte("web-key-for-tests-0123456789abcd"),
		Settlements: &obx.Settlements{Store: &sqlstore.Cycles{DB: h.db}, Now: time.Now}}
	s := &obxhttp.Server{Service: &obx.Service{Accounts: h.db, Banks: dir, Now: time.Now},
		Transfers: &obx.Transfers{Store: h.db, Contracts: h.db, Accounts: h.db, Banks: dir, Now: time.Now, Owner: "t"},
		Tokens:    o, Mounts: []obxhttp.Mounter{o, w}, Checklist: h.db, Calls: h.calls, Logger: logger}
	h.srv = httptest.NewServer(s.Handler())
	w.BaseURL = h.srv.URL
	t.Cleanup(h.srv.Close)
	for _, u := range []struct{ email, role string }{{"admin@center.example", obx.RoleAdmin},
		{"rev@center.example", obx.RoleReviewer}, {"aud@center.example", obx.RoleAuditor}} {
		hash, err := web.HashPassword(staffPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.CreateStaff(ctx, &obx.StaffUser{Email: u.email, Name: u.role + " user", Role: u.role, PasswordHash: hash},
			&obx.AuditEntry{Actor: "test", Action: "staff.create"}); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

var useCodes atomic.Int64

// lockedWriter lets the handlers' logger write while the test reads.
type lockedWriter struct {
	b *strings.Builder
}

var logMu sync.Mutex

func (w *lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.b.Write(p)
}

// browser is a cookie-keeping client that remembers the last page's CSRF
// token, like a person's browser session.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
	body string
}

func (h *testHub) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: h.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) read(resp *http.Response, err error) int {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.body = string(body)
	if m := csrfRE.FindStringSubmatch(b.body); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode
}

func (b *browser) get(path string) int {
	b.t.Helper()
	return b.read(b.c.Get(b.base + path))
}

// post submits a form with the session's CSRF token, as the page's form would.
func (b *browser) post(path string, form url.Values) int {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf)
	}
	return b.read(b.c.PostForm(b.base+path, form))
}

// find returns the first group of re in the last page, unescaped.
func (b *browser) find(re string) string {
	b.t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(b.body)
	if m == nil {
		b.t.Fatalf("no %s in page:\n%s", re, b.body)
	}
	return html.UnescapeString(m[1])
}

func (b *browser) has(s string) bool { return strings.Contains(b.body, s) }

func (b *browser) signUp(email string) {
	b.t.Helper()
	if st := b.post("/portal/signup", url.Values{"company": {"Fin " + email}, "name": {"Kim"}, "email": {email},
		"password": {"long enough pw"}}); st != http.StatusOK || !b.has("client-use-code") {
		b.t.Fatalf("sign-up: %d\n%s", st, b.body)
	}
}

func (b *browser) staff(email string) {
	b.t.Helper()
	if st := b.post("/console/signin", url.Values{"email": {email}, "password": {staffPassword}}); st != http.StatusOK || !b.has("Work queues") {
		b.t.Fatalf("console sign-in: %d\n%s", st, b.body)
	}
}
