package registry

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/pki"
	"gotk.dev/pkg/auth/cloud"
)

// TestProxyCarriesSTS: a Keychain request's proxy carries the AWS STS exchange; a proxy
// refusing the credentials keeps STS unreached and the error names the proxy, not its
// password.
func TestProxyCarriesSTS(t *testing.T) {
	cloudapi.IsolateEnv(t)
	a := cloudapi.UseAWSWebIdentity(t)
	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "flux", Password: "right-5f1c"})
	u, err := url.Parse(proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("flux", "wrong-9a0e")
	l := &cloud.Logins{}
	_, err = Keychain(context.Background(), l, Request{Provider: cloud.ProviderAWS, Host: ecrHostName, Proxy: u})
	if err == nil || proxy.Denied() == 0 || a.Counts().STS != 0 {
		t.Fatalf("STS must go through the refusing proxy: err %v, denied %d, %+v", err, proxy.Denied(), a.Counts())
	}
	wantError(t, err, "provider 'aws'", "through proxy "+u.Host+": ", "407 Proxy Authentication Required")
	cloudapi.NoSecretIn(t, err.Error(), "wrong-9a0e", "right-5f1c")

	u.User = url.UserPassword("flux", "right-5f1c")
	kc, err := Keychain(context.Background(), l, Request{Provider: cloud.ProviderAWS, Host: ecrHostName, Proxy: u})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := resolve(t, kc, ecrHostName); cfg.Username != "AWS" || cfg.Password == "" {
		t.Fatalf("unexpected ECR login through the proxy: user %q", cfg.Username)
	}
	if n := proxy.ServedTo(strings.TrimPrefix(a.URL, "http://")); n != 2 {
		t.Fatalf("STS and ECR through the proxy = %d requests, want 2", n)
	}
}

// TestProxyWithAWSCABundle: with AWS_CA_BUNDLE in the controller's environment the AWS SDK
// only takes its own buildable HTTP client; an object's proxy must still carry STS and ECR.
func TestProxyWithAWSCABundle(t *testing.T) {
	cloudapi.IsolateEnv(t)
	a := cloudapi.UseAWSWebIdentity(t)
	t.Setenv("AWS_CA_BUNDLE", cloudapi.TokenFile(t, string(pki.NewForTest(t).CAPEM)))
	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "flux", Password: "right-5f1c"})
	u, err := url.Parse(proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("flux", "right-5f1c")
	if _, err := Keychain(context.Background(), &cloud.Logins{}, Request{Provider: cloud.ProviderAWS, Host: ecrHostName, Proxy: u}); err != nil {
		t.Fatal(err)
	}
	if n := proxy.ServedTo(strings.TrimPrefix(a.URL, "http://")); n != 2 {
		t.Fatalf("STS and ECR through the proxy = %d requests, want 2", n)
	}
}
