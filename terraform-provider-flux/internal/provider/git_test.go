package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/sshkey"
	"gotk.dev/internal/testing/gitserver"
)

// TestGitSSH configures SSH against a real sshd: the key pushes, the host key is scanned for
// the cluster's Secret, and a key without access fails the check naming the attribute.
func TestGitSSH(t *testing.T) {
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{})
	url, err := srv.InitRepo("fleet")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := &gitModel{URL: types.StringValue(url), SSH: &sshModel{PrivateKey: types.StringValue(string(srv.ClientKey()))}}
	b := &bootstrap.Bootstrapper{}
	if err := g.configure(ctx, b, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Remote.Check(ctx); err != nil {
		t.Fatalf("check with the authorized key: %v", err)
	}
	if !b.Credentials.SSH || len(b.Credentials.KnownHosts) == 0 || string(b.Credentials.PrivateKey) != string(srv.ClientKey()) {
		t.Errorf("credentials for the cluster: ssh=%v known_hosts=%q", b.Credentials.SSH, b.Credentials.KnownHosts)
	}
	if want, err := g.syncURL(); err != nil || b.SyncURL != want {
		t.Errorf("sync URL %q, plan-time URL %q (%v)", b.SyncURL, want, err)
	}
	if b.Branch != "main" || b.Author.Name != "Flux" {
		t.Errorf("defaults: branch %q author %q", b.Branch, b.Author.Name)
	}

	other, err := sshkey.DefaultOptions().Generate()
	if err != nil {
		t.Fatal(err)
	}
	g.SSH.PrivateKey = types.StringValue(string(other.Private))
	b = &bootstrap.Bootstrapper{}
	if err := g.configure(ctx, b, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Remote.Check(ctx); err == nil {
		t.Error("a key without access passed the check")
	}
	if got := g.credentialsAttr(); got != "git.ssh.private_key" {
		t.Errorf("credentials attribute %q", got)
	}
}

// TestGitConfigErrors: wrong or missing git attributes fail before any connection, naming
// the attribute and never the secret.
func TestGitConfigErrors(t *testing.T) {
	str := types.StringValue
	for _, tc := range []struct {
		name string
		g    *gitModel
		want string
	}{
		{"no git", nil, "the provider's git attribute is required"},
		{"bad url", &gitModel{URL: str("::nope")}, "git.url"},
		{"scheme", &gitModel{URL: str("ftp://example.com/repo")}, "git.url: unsupported scheme \"ftp\""},
		{"no http", &gitModel{URL: str("https://example.com/repo")}, "git.http: credentials are required"},
		{"insecure", &gitModel{URL: str("http://example.com/repo"), HTTP: &httpModel{Password: str("s3cr3t")}}, "git.http.allow_insecure_http"},
		{"no password", &gitModel{URL: str("https://example.com/repo"), HTTP: &httpModel{Username: str("u")}}, "git.http.password"},
		{"no key", &gitModel{URL: str("git@example.com:org/repo.git")}, "git.ssh.private_key: is required to push to ssh://git@example.com/org/repo.git"},
		{"bad key", &gitModel{URL: str("ssh://git@127.0.0.1:1/repo"), SSH: &sshModel{PrivateKey: str("not a key")}}, "git.ssh.private_key"},
		{"gpg without ring", &gitModel{URL: str("https://example.com/repo"), HTTP: &httpModel{Password: str("s3cr3t")}, GPGKeyID: str("ABCD")}, "git.gpg_key_ring: is required"},
		{"bad ring", &gitModel{URL: str("https://example.com/repo"), HTTP: &httpModel{Password: str("s3cr3t")}, GPGKeyRing: str("junk")}, "git.gpg_key_ring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.g.configure(context.Background(), &bootstrap.Bootstrapper{}, time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the secret is in the error: %v", err)
			}
		})
	}
}

// TestGitHTTP: the cluster gets the credentials the provider pushes with, and the sync URL
// carries none.
func TestGitHTTP(t *testing.T) {
	g := &gitModel{URL: types.StringValue("https://user:inline@git.example.com/fleet.git"), Branch: types.StringValue("prod"),
		HTTP: &httpModel{BearerToken: types.StringValue("tok")}}
	b := &bootstrap.Bootstrapper{}
	if err := g.configure(context.Background(), b, time.Second); err != nil {
		t.Fatal(err)
	}
	if b.SyncURL != "https://git.example.com/fleet.git" || b.Credentials.BearerToken != "tok" || b.Branch != "prod" {
		t.Errorf("sync URL %q, token %q, branch %q", b.SyncURL, b.Credentials.BearerToken, b.Branch)
	}
	if g.credentialsAttr() != "git.http.bearer_token" {
		t.Errorf("credentials attribute %q", g.credentialsAttr())
	}
}
