package app

import (
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// TestCreateSecretProxy compares flux create secret proxy --export
// with golden files, and checks their bad input; no cluster exists.
func TestCreateSecretProxy(t *testing.T) {
	const secret = "pr0xy-pa55-n0t-t0-pr1nt"
	ok := []struct {
		golden string
		args   []string
	}{
		{"create-secret-proxy", []string{"secret", "proxy", "corp-proxy", "--address=https://proxy.example.com:3128",
			"--username=user", "--password=s3cr3t", "--namespace=apps"}},
		{"create-secret-proxy-socks", []string{"secret", "proxy", "socks", "--address=socks5://127.0.0.1:1080", "--label=team=a"}},
	}
	for _, tt := range ok {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"create"}, tt.args...), "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden.Assert(t, tt.golden, r.stdout)
		})
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"secret", "proxy", "x"}, "✗ --address is required"},
		{[]string{"secret", "proxy", "x", "--address=ftp://h:21"}, `✗ invalid --address: unsupported scheme "ftp"`},
		{[]string{"secret", "proxy", "x", "--address=http://"}, "has no host"},
		{[]string{"secret", "proxy", "x", "--address=http://h:1", "--password=" + secret}, "'password' requires 'username'"},
		{[]string{"secret", "proxy", "Bad_Name", "--address=http://h:1"}, `invalid secret name "Bad_Name"`},
	}
	for _, tt := range bad {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"create"}, tt.args...), "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			wants(t, "stderr", r.stderr, tt.want)
			if strings.Contains(r.stderr, secret) {
				t.Errorf("a secret was printed:\n%s", r.stderr)
			}
		})
	}
}

// TestCreateSecretGitHubApp compares flux create secret githubapp --export with golden
// files and checks its bad input; no cluster exists.
func TestCreateSecretGitHubApp(t *testing.T) {
	t.Parallel()
	key := filepath.Join("testdata", "githubapp", "app.pem")
	run := func(t *testing.T, args ...string) result {
		t.Helper()
		args = append(append([]string{"create", "secret", "githubapp"}, args...), "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
		return runFlux(t, "", args...)
	}
	ok := []struct {
		golden string
		args   []string
	}{
		{"create-secret-githubapp", []string{"podinfo-auth", "--app-id=1", "--app-installation-id=2", "--app-private-key=" + key, "-n", "apps"}},
		{"create-secret-githubapp-enterprise", []string{"ghe-auth", "--app-id=12", "--app-installation-owner=acme",
			"--app-private-key=" + key, "--app-base-url=https://github.example.com/api/v3", "--label=team=a"}},
	}
	for _, tt := range ok {
		r := run(t, tt.args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", tt.golden, r.code, r.stderr)
		}
		golden.Assert(t, tt.golden, r.stdout)
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"x", "--app-installation-id=2", "--app-private-key=" + key}, "✗ --app-id is required"},
		{[]string{"x", "--app-id=my-app", "--app-installation-id=2", "--app-private-key=" + key}, `✗ invalid --app-id "my-app": the GitHub App ID is a number`},
		{[]string{"x", "--app-id=1", "--app-private-key=" + key}, "✗ --app-installation-id or --app-installation-owner is required"},
		{[]string{"x", "--app-id=1", "--app-installation-id=two", "--app-private-key=" + key}, `✗ invalid --app-installation-id "two"`},
		{[]string{"x", "--app-id=1", "--app-installation-id=2"}, "✗ --app-private-key is required"},
		{[]string{"x", "--app-id=1", "--app-installation-id=2", "--app-private-key=testdata/githubapp/missing.pem"}, "✗ unable to read private key file: open testdata/githubapp/missing.pem"},
		{[]string{"x", "--app-id=1", "--app-installation-id=2", "--app-private-key=testdata/githubapp/ec.pem"}, "✗ invalid --app-private-key testdata/githubapp/ec.pem: a *ecdsa.PrivateKey, not an RSA private key"},
		{[]string{"x", "--app-id=1", "--app-installation-id=2", "--app-private-key=testdata/flux-cli-leaves.txt"}, "no PEM-encoded private key found"},
		{[]string{"x", "--app-id=1", "--app-installation-id=2", "--app-private-key=" + key, "--app-base-url=github.example.com"}, `✗ invalid --app-base-url "github.example.com"`},
		{[]string{"--app-id=1", "--app-installation-id=2", "--app-private-key=" + key}, "✗ secret name is required"},
	}
	for _, tt := range bad {
		r := run(t, tt.args...)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", tt.args, r.code, r.stdout)
		}
		wants(t, "stderr", r.stderr, tt.want)
		if strings.Contains(r.stderr, "PRIVATE KEY") {
			t.Errorf("the private key was printed:\n%s", r.stderr)
		}
	}
}
