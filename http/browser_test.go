package http_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/obxhub/obx/internal/dbtest"
)

// browser starts a headless Chromium with a phone-sized viewport. It skips
// when Chromium is not installed, except under CI=true, where it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required when CI=true (apt-get install chromium)")
		}
		t.Skip("skipping browser test: chromium not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// A phone-sized viewport: the pages must work on a phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// labelled checks that every visible form control on the page has a label,
// which screen readers announce.
const unlabelled = `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).length`

// TestConsentInBrowser walks the consent pages in Chromium on a phone-sized
// screen, agreeing and refusing. The pages' Content-Security-Policy allows no
// script at all, so passing here also shows they need no JavaScript.
func TestConsentInBrowser(t *testing.T) {
	h := newHub(t, dbtest.Engines()[0], hubOptions{})
	resp, err := http.Get(h.srv.URL + "/oauth/2.0/authorize?" + url.Values{"client_id": {h.a.ClientID}, "response_type": {"code"},
		"redirect_uri": {redirectURI}, "scope": {"login"}, "state": {"abcdefghijklmnopqrstuvwxyz123456"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("consent page CSP %q must forbid scripts", csp)
	}
	ctx := browser(t)
	c := customer(t)
	for _, decision := range []string{"agree", "refuse"} {
		t.Run(decision, func(t *testing.T) {
			callback := h.srv.URL + "/sandbox/callback"
			q := url.Values{
				"response_type": {"code"}, "client_id": {h.a.ClientID}, "redirect_uri": {callback},
				"scope": {"login inquiry transfer"}, "state": {"abcdefghijklmnopqrstuvwxyz123456"}, "auth_type": {"0"},
			}
			ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
			submit := css(`form button[type=submit]:not(.secondary)`)
			unlabelledNow := func() int {
				n, err := chromedp.Run(ctx, chromedp.Evaluate[int](unlabelled))
				if err != nil {
					t.Fatalf("evaluate: %v", err)
				}
				return n
			}
			step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, steps...); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if n := unlabelledNow(); n != 0 {
					t.Errorf("%s: %d form controls without a label", what, n)
				}
			}
			step("choose a bank",
				chromedp.Navigate(h.srv.URL+"/oauth/2.0/authorize?"+q.Encode()),
				chromedp.WaitVisible(css(`input[name=bank_code_std][value="097"]`)),
				chromedp.Click(css(`input[name=bank_code_std][value="097"]`)),
			)
			step("sign in", chromedp.Click(submit), chromedp.WaitVisible(css(`#login`)),
				chromedp.SendKeys(css(`#login`), c.Login), chromedp.SendKeys(css(`#password`), c.Password))
			step("choose accounts", chromedp.Click(submit), chromedp.WaitVisible(css(`input[name=account]`)))
			step("decide", chromedp.Click(submit), chromedp.WaitVisible(css(`button[value=agree]`)))
			landed := css(`#code`) // the callback page
			if decision == "refuse" {
				landed = css(`p[role=alert]`)
			}
			if err := chromedp.Do(ctx, chromedp.Click(css(`button[value=`+decision+`]`)), chromedp.WaitVisible(landed)); err != nil {
				t.Fatalf("%s: %v", decision, err)
			}
			location, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(location)
			if err != nil {
				t.Fatal(err)
			}
			got := u.Query()
			if got.Get("state") != q.Get("state") {
				t.Errorf("state not echoed: %s", location)
			}
			if decision == "refuse" {
				if got.Get("error") != "access_denied" || got.Get("code") != "" {
					t.Errorf("refusal redirected to %s", location)
				}
				return
			}
			code := got.Get("code")
			if code == "" || got.Get("scope") == "" {
				t.Fatalf("agreement redirected to %s", location)
			}
			h.a.RedirectURI = callback
			if tok := h.a.Exchange(t, code); tok.AccessToken == "" {
				t.Error("no access token for the browser's code")
			}
		})
	}
}
