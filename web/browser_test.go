package web_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/hubtest"
)

var screenshots = flag.String("screenshots", "", "save the console's and portal's pages as PNG files in this directory (for the README)")

// chromium starts a headless Chromium with a desktop-sized window. It
// skips when Chromium is not installed, except under CI=true. When the test
// fails, a screenshot of the last page is saved to the test's artifact
// directory (go test -artifacts keeps it).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required when CI=true (apt-get install chromium)")
		}
		t.Skip("skipping browser test: chromium not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelRun := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			shot(t, ctx, chromedp.FullScreenshot(100), filepath.Join(t.ArtifactDir(), "failure.png"))
		}
		cancelRun()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot saves the screenshot take makes to path.
func shot(t *testing.T, ctx context.Context, take chromedp.Action[[]byte], path string) {
	png, err := chromedp.Run(ctx, take)
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot saved: %s", path)
}

// TestAdmissionInBrowser is the end-to-end story in a real browser:
// a TSP signs up, creates an app and calls the sandbox, applies; a reviewer
// takes it through every step to live in the console; the TSP's live
// credentials work while its sandbox ones do not reach live banks; the
// operator suspends it and its next API call is refused. The pages'
// Content-Security-Policy allows no script, so this also shows that they
// work without JavaScript.
func TestAdmissionInBrowser(t *testing.T) {
	h := newHub(t)
	ctx := chromium(t)
	base := h.srv.URL
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](unlabelled)); err != nil || n != 0 {
			t.Errorf("%s: %d form controls without a label (%v)", what, n, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	save := func(name string) {
		if *screenshots != "" {
			shot(t, ctx, chromedp.CaptureScreenshot(), filepath.Join(*screenshots, name+".png"))
		}
	}

	// The TSP signs up and gets sandbox keys.
	do("sign up", chromedp.Navigate(base+"/portal/signup"), chromedp.WaitVisible(css("#company")),
		chromedp.SetValue(css("#company"), "Browser Pay"), chromedp.SetValue(css("#name"), "Lee"),
		chromedp.SetValue(css("#email"), "lee@browserpay.example"), chromedp.SetValue(css("#password"), "a long password"),
		chromedp.Click(css("form button[type=submit]")), chromedp.WaitVisible(css("#client-use-code")))
	useCode := text("#client-use-code")
	do("create app", chromedp.SetValue(css("#app-name"), "Browser Pay app"),
		chromedp.SetValue(css("#redirect-uris"), "https://browserpay.example/cb"),
		chromedp.Click(css(`form[action="/portal/apps"] button`)), chromedp.WaitVisible(css("#new-secret")))
	save("portal-credentials")
	sandbox := hubtest.NewTSP(base, text("#new-client-id"), text("#new-secret"), useCode, "https://browserpay.example/cb")
	tok := sandbox.InstitutionToken(t, "oob")
	if m := sandbox.Get(t, tok, "/v2.0/bank/status", nil); hubtest.Code(m) != "A0000" {
		t.Fatalf("sandbox call: %v", m)
	}

	// The production application.
	do("fill the application", chromedp.Navigate(base+"/portal/application"), chromedp.WaitVisible(css("#company_name")),
		chromedp.SetValue(css("#company_name"), "Browser Pay Co"), chromedp.SetValue(css("#business_num"), "2208123456"),
		chromedp.SetValue(css("#category"), obx.EligibleFintech),
		chromedp.Click(css(`input[name=services][value=payment]`)),
		chromedp.Click(css(`input[name=apis][value="/v2.0/bank/status"]`)),
		chromedp.SetValue(css("#service_plan"), "Account-to-account payments for online shops."),
		chromedp.SetValue(css("#credit_rating"), "BB"), chromedp.SetValue(css("#paid_in_capital"), "800000000"),
		chromedp.SetValue(css("#members"), "12000"), chromedp.Click(css(`input[name=aml]`)),
		chromedp.Click(css(`input[name=account_verification]`)),
		chromedp.Click(css("#save-application")), chromedp.WaitVisible(css(".flash")))
	do("submit", chromedp.Navigate(base+"/portal/"), chromedp.Click(css("#submit-application")),
		chromedp.WaitVisible(css(".flash")))
	if got := text("#app-state"); got != obx.AdmSubmitted {
		t.Fatalf("state after submit: %s", got)
	}

	// A reviewer signs in to the console and takes it through every step.
	tsp, err := h.db.TSPByUseCode(context.Background(), useCode)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf("%s/console/tsps/%d", base, tsp.ID)
	do("console sign-in", chromedp.Navigate(base+"/console/signin"), chromedp.WaitVisible(css("#email")),
		chromedp.SetValue(css("#email"), "rev@center.example"), chromedp.SetValue(css("#password"), staffPassword),
		chromedp.Click(css("form button[type=submit]")), chromedp.WaitVisible(css("#queue-submitted")))
	save("console-queues")
	state := func(want string) {
		t.Helper()
		if got := text("#file-state"); got != want {
			t.Fatalf("file state %s, want %s", got, want)
		}
	}
	do("open the file", chromedp.Click(css(fmt.Sprintf(`a[href="/console/tsps/%d"]`, tsp.ID))), chromedp.WaitVisible(css("#start-review")))
	do("review", chromedp.Click(css("#start-review")), chromedp.WaitVisible(css("#approve")))
	if *screenshots != "" {
		do("scores", chromedp.ScrollIntoView(css("#selfcert")))
		save("console-scores")
	}
	// The page already shows a flash message; wait for the new state's badge.
	do("approve", chromedp.SetValue(css("#reasons"), "Eligible fintech; plan complete."), chromedp.Click(css("#approve")),
		chromedp.WaitVisible(css("#file-state.approved")))
	state(obx.AdmApproved)
	do("request functional check", chromedp.Navigate(base+"/portal/"), chromedp.Click(css("#request-functional")),
		chromedp.WaitVisible(css(".flash")))
	do("functional test", chromedp.Navigate(file), chromedp.Click(css("#functional-confirm")), chromedp.WaitVisible(css("#security-pass")))
	do("security check", chromedp.Click(css("#security-pass")), chromedp.WaitVisible(css("#set-contract")))
	do("contract", chromedp.SetValue(css("#main_bank"), "097"), chromedp.SetValue(css("#daily_withdraw_limit"), "20000000"),
		chromedp.SetValue(css("#accounts"), banksim.DemoTSPAccounts("097")[1].Number),
		chromedp.Click(css("#set-contract")), chromedp.WaitVisible(css("#go-live")))
	do("go live", chromedp.Click(css("#go-live")), chromedp.WaitVisible(css("#suspend")))
	state(obx.AdmLive)

	// The TSP issues the secret of its live credentials; they reach the
	// live bank, and the sandbox ones still do not.
	clients, err := h.db.Clients(context.Background(), tsp.ID)
	if err != nil || clients[0].Env != obx.EnvLive {
		t.Fatalf("clients %+v %v", clients, err)
	}
	do("issue live secret", chromedp.Navigate(base+"/portal/"),
		chromedp.Click(css(`form[action="/portal/apps/`+clients[0].ID+`/rotate"] button`)), chromedp.WaitVisible(css("#new-secret")))
	live := hubtest.NewTSP(base, clients[0].ID, text("#new-secret"), useCode, "https://browserpay.example/cb")
	liveTok := live.InstitutionToken(t, "oob")
	if code := realName(t, live, liveTok, "088"); code != "A0000" {
		t.Errorf("live credentials at the live bank: %s", code)
	}
	if code := realName(t, sandbox, tok, "088"); code == "A0000" {
		t.Error("sandbox credentials reached the live bank")
	}

	// The operator suspends it; the next call is refused.
	do("suspend", chromedp.Navigate(file), chromedp.WaitVisible(css("#suspend")),
		chromedp.SetValue(css("#reason"), "unconsented_withdrawal"), chromedp.SetValue(css("#note"), "bank 088 complaint"),
		chromedp.Click(css("#suspend")), chromedp.WaitVisible(css("#reinstate")))
	state(obx.AdmSuspended)
	if m := live.Get(t, liveTok, "/v2.0/bank/status", nil); hubtest.Code(m) != "A0013" {
		t.Errorf("suspended TSP's call: %v", m)
	}

	// An auditor reads the trail.
	do("auditor", chromedp.Navigate(base+"/console/"), chromedp.Click(css(`form[action="/console/signout"] button`)),
		chromedp.WaitVisible(css("#email")), chromedp.SetValue(css("#email"), "aud@center.example"),
		chromedp.SetValue(css("#password"), staffPassword), chromedp.Click(css("form button[type=submit]")),
		chromedp.WaitVisible(css("#queue-submitted")), chromedp.Navigate(base+"/console/audit?"+url.Values{"subject": {fmt.Sprintf("tsp:%d", tsp.ID)}}.Encode()),
		chromedp.WaitVisible(css("#audit-verified")))
	save("console-audit")
	if got := text("#audit tbody"); !strings.Contains(got, "tsp.suspend") || !strings.Contains(got, "tsp.go_live") {
		t.Errorf("audit trail lacks the story:\n%s", got)
	}
}

// unlabelled counts visible form controls without a label, which screen
// readers could not announce.
const unlabelled = `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).length`
