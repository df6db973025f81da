package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gotk.dev/internal/testing/dex"
)

// TestBrowserOIDC signs in with Chromium through the real provider's login page (Dex): the
// UI's sign-in button leads to Dex, the password form sends the browser back to the object
// page it started from, signed in as the ID token's user, and the overview lists only what
// the user's group may see.
func TestBrowserOIDC(t *testing.T) {
	env := lazyEnv.Get(t)
	nsA, nsB := env.NewNamespace(t, "ui-browser-a"), env.NewNamespace(t, "ui-browser-b")
	fleet(t, env, nsA)
	fleet(t, env, nsB)
	carol := dex.User{Email: "carol@example.com", Password: "carol-password", Username: "carol", Groups: []string{"team-c"}}
	groupMayEdit(t, env.Client, nsA, "oidc:team-c")
	s := startOIDCServer(t, env, carol)
	b := browser(t)

	do(t, b, chromedp.Navigate(s.http.URL+"/Kustomization/"+nsA+"/apps"))
	waitJS(t, b, "the sign-in page", `!!document.querySelector('[data-testid=oidc-login]')`)
	screenshot(t, b, "oidc-sign-in")
	do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=oidc-login]`)))
	waitAcrossNavigation(t, b, "Dex's login form", `!!document.querySelector('#login') && location.href.startsWith(`+jsString(s.dex.Issuer())+`)`)
	screenshot(t, b, "oidc-provider-login")
	do(t, b,
		chromedp.SendKeys(chromedp.CSS(`#login`), carol.Email),
		chromedp.SendKeys(chromedp.CSS(`#password`), carol.Password),
		chromedp.Click(chromedp.CSS(`#submit-login`)))
	waitAcrossNavigation(t, b, "the object page, signed in", `document.querySelector('[data-testid=user]')?.innerText === 'oidc:carol@example.com' && !!document.querySelector('[data-testid=reconcile]')`)
	if path, err := chromedp.Run(b, chromedp.Evaluate[string](`location.pathname`)); err != nil || path != "/Kustomization/"+nsA+"/apps" {
		t.Errorf("landed on %q (%v), want the page the sign-in started from", path, err)
	}
	screenshot(t, b, "oidc-signed-in")

	do(t, b, chromedp.Navigate(s.http.URL+"/"))
	waitJS(t, b, "team-c's rows", `document.querySelectorAll('[data-testid=row]').length >= 3`)
	keys, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=row]')].map(r => r.dataset.key)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Split(k, "/")[1] != nsA {
			t.Errorf("carol's overview shows %s, outside team-c's namespace", k)
		}
	}
}

// waitAcrossNavigation is waitJS while the page navigates (through the provider's redirects):
// a poll whose page went away is started again on the next one.
func waitAcrossNavigation(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(100*time.Millisecond)))
		if err == nil {
			return
		}
		// Errors of a page that went away mid-poll ("Cannot find context", "target
		// navigated") are retried on the next page until the deadline.
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href + '\\n' + document.body.innerText"))
			t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
