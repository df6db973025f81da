package gitprovider

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/pkg/auth/cloud"
)

// TestSpecErrorsStall: what only a spec change fixes stalls, under the reason the controllers
// report, naming the field or the URL; no request is made for any of them.
func TestSpecErrorsStall(t *testing.T) {
	cloudapi.IsolateEnv(t)
	parse := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	codeCommit := "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app"
	for _, tc := range []struct {
		name   string
		src    Source
		reason string
		msg    []string
	}{
		{"unknown-provider", Source{Provider: "gitlab", URL: parse("https://gitlab.com/a/b")},
			ReasonInvalidProviderConfiguration, []string{"provider 'gitlab' is not supported"}},
		{"github-ssh", Source{Provider: GitHub, URL: parse("ssh://git@github.com/a/b")},
			ReasonURLInvalid, []string{"provider 'github' needs an http(s) URL"}},
		{"github-no-secret", Source{Provider: GitHub, URL: parse("https://github.com/a/b")},
			ReasonAuthenticationFailed, []string{"needs spec.secretRef", "githubAppID"}},
		{"github-bad-secret", Source{Provider: GitHub, URL: parse("https://github.com/a/b"), Namespace: "ns", SecretName: "app",
			Secret: map[string][]byte{"githubAppID": []byte("x")}},
			ReasonAuthenticationFailed, []string{"invalid GitHub App secret 'ns/app'", "'githubAppID' must be a positive number"}},
		{"azure-sa-without-gate", Source{Provider: Azure, URL: parse("https://dev.azure.com/org/p/_git/r"), Namespace: "ns", ServiceAccountName: "tenant"},
			meta.FeatureGateDisabledReason, []string{"ObjectLevelWorkloadIdentity"}},
		{"aws-ssh", Source{Provider: AWS, URL: parse("ssh://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app")},
			ReasonInvalidProviderConfiguration, []string{"ssh://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app", "AWS CodeCommit HTTPS URL"}},
		{"aws-other-host", Source{Provider: AWS, URL: parse("https://github.com/a/b")},
			ReasonInvalidProviderConfiguration, []string{"https://github.com/a/b"}},
		{"aws-service-account", Source{Provider: AWS, URL: parse(codeCommit), ServiceAccountName: "tenant"},
			ReasonInvalidProviderConfiguration, []string{"spec.serviceAccountName is only for provider 'azure'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Resolver{}).Credentials(context.Background(), tc.src)
			var perr *Error
			if !errors.As(err, &perr) || !perr.Stalled || perr.Reason != tc.reason {
				t.Fatalf("error %#v, want a stalled %s", err, tc.reason)
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
		})
	}
}

// TestLockdownRefusesControllerIdentity: under --default-service-account with the gate on, a
// CodeCommit repository is not read with the controller's own identity.
func TestLockdownRefusesControllerIdentity(t *testing.T) {
	cloudapi.IsolateEnv(t)
	u, _ := url.Parse("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app")
	r := &Resolver{Logins: &cloud.Logins{ObjectLevel: true, DefaultServiceAccount: "tenant"}}
	_, err := r.Credentials(context.Background(), Source{Provider: AWS, URL: u, Namespace: "ns"})
	var perr *Error
	if !errors.As(err, &perr) || !perr.Stalled || perr.Reason != ReasonInvalidProviderConfiguration || !strings.Contains(err.Error(), "--default-service-account") {
		t.Fatalf("error %v, want a stalled refusal naming --default-service-account", err)
	}
}

// TestTLSFromSecret: with a cloud identity, the Secret lends only its TLS entries.
func TestTLSFromSecret(t *testing.T) {
	u, _ := url.Parse("https://dev.azure.com/org/p/_git/r")
	o := tlsOnly(Source{URL: u, Secret: map[string][]byte{"caFile": []byte("CA"), "username": []byte("u"), "password": []byte("p")}})
	if string(o.CACert) != "CA" || o.Username != "" || o.Password != "" || o.Host != "dev.azure.com" {
		t.Fatalf("auth options = %s", o)
	}
}
