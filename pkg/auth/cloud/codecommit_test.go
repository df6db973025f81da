package cloud

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/codecommitapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/git"
)

// TestCodeCommitCredentials lists a repository through a CodeCommit endpoint that checks the
// SigV4 Git password against the credentials its STS issued to the controller's web
// identity; the AWS credentials are fetched once and every call signs afresh.
func TestCodeCommitCredentials(t *testing.T) {
	cloudapi.IsolateEnv(t)
	a := cloudapi.UseAWSWebIdentity(t)
	g := gitserver.New(t, gitserver.Options{})
	if _, err := g.InitRepo("fleet"); err != nil {
		t.Fatal(err)
	}
	g.Commit("fleet").Branch("main").File("a.txt", "a").MustDo(t)
	cc := codecommitapi.Start(t, a, g, "eu-west-3")
	u, _ := url.Parse(cc.RepoURL("fleet"))
	l := &Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 10})}
	client := git.NewClient(git.ClientOptions{})
	for range 2 {
		tok, err := l.CodeCommitCredentials(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Username != a.AccessKeyID+"%"+a.SessionToken || !strings.Contains(tok.Value, "Z") {
			t.Fatalf("unexpected CodeCommit user %q", tok.Username)
		}
		opts := &git.AuthOptions{Transport: git.HTTPS, Host: u.Host, Username: tok.Username, Password: tok.Value, CACert: cc.CACert()}
		if _, err := client.ResolveRef(context.Background(), u.String(), opts, git.CheckoutRef{Branch: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	if c := a.Counts(); c.STS != 1 {
		t.Fatalf("the AWS credentials must be cached: %+v", c)
	}

	// Signed for another repository: refused.
	other, _ := url.Parse(cc.RepoURL("other"))
	tok, err := l.CodeCommitCredentials(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	opts := &git.AuthOptions{Transport: git.HTTPS, Host: u.Host, Username: tok.Username, Password: tok.Value, CACert: cc.CACert()}
	if _, err := client.ResolveRef(context.Background(), u.String(), opts, git.CheckoutRef{Branch: "main"}); err == nil {
		t.Fatal("a password signed for another repository was accepted")
	}
}

func TestCodeCommitURLs(t *testing.T) {
	for _, tc := range []struct{ url, region string }{
		{"https://git-codecommit.us-east-1.amazonaws.com/v1/repos/app", "us-east-1"},
		{"https://git-codecommit-fips.us-gov-west-1.amazonaws.com/v1/repos/app", "us-gov-west-1"},
		{"https://git-codecommit.cn-north-1.amazonaws.com.cn/v1/repos/app", "cn-north-1"},
		{"ssh://git-codecommit.us-east-1.amazonaws.com/v1/repos/app", ""},
		{"http://git-codecommit.us-east-1.amazonaws.com/v1/repos/app", ""},
		{"https://github.com/fleet/app", ""},
		{"https://git-codecommit.us-east-1.amazonaws.com.evil.example/v1/repos/app", ""},
	} {
		u, _ := url.Parse(tc.url)
		region, err := CodeCommitRegion(u)
		if region != tc.region {
			t.Errorf("%s: region %q, want %q", tc.url, region, tc.region)
		}
		if tc.region == "" && (!IsHostError(err) || !strings.Contains(err.Error(), tc.url) || !strings.Contains(err.Error(), "CodeCommit HTTPS URL")) {
			t.Errorf("%s: error %v must name the URL and the form wanted", tc.url, err)
		}
	}
}

func TestCodeCommitSTSRefuses(t *testing.T) {
	cloudapi.IsolateEnv(t)
	a := cloudapi.UseAWSWebIdentity(t)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", cloudapi.TokenFile(t, "a-token-of-another-cluster"))
	u, _ := url.Parse("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app")
	_, err := (&Logins{}).CodeCommitCredentials(context.Background(), u)
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"provider 'aws'", "Git credentials", "controller's workload identity", "STS in eu-west-1",
		strings.TrimPrefix(a.URL, "http://"), "AccessDenied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	cloudapi.NoSecretIn(t, err.Error(), "a-token-of-another-cluster")
}

// TestCodeCommitSignsHostWithoutPort: a URL naming port 443 gets the same password as one
// that does not (the AWS CLI's helper signs the host name alone).
func TestCodeCommitSignsHostWithoutPort(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sign := func(raw string) auth.Token {
		u, _ := url.Parse(raw)
		tok, err := signCodeCommit(creds, u, "eu-west-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	plain, port := sign("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app"), sign("https://git-codecommit.eu-west-1.amazonaws.com:443/v1/repos/app")
	if plain != port || plain.Username != "AKIDEXAMPLE" || !strings.HasPrefix(plain.Value, "20260102T030405Z") {
		t.Fatalf("passwords differ or malformed: %q %q", plain.Value, port.Value)
	}
}

// BenchmarkCodeCommitSign is the per-reconcile cost of CodeCommit's Git password once the
// AWS credentials are cached.
func BenchmarkCodeCommitSign(b *testing.B) {
	creds := aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}
	u, _ := url.Parse("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signCodeCommit(creds, u, "eu-west-1", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
