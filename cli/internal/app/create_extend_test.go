package app

import (
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// TestCreateProxyTenant compares flux create secret proxy and flux create tenant --export
// with golden files, and checks their bad input; no cluster exists.
func TestCreateProxyTenant(t *testing.T) {
	const secret = "pr0xy-pa55-n0t-t0-pr1nt"
	ok := []struct {
		golden string
		args   []string
	}{
		{"create-secret-proxy", []string{"secret", "proxy", "corp-proxy", "--address=https://proxy.example.com:3128",
			"--username=user", "--password=s3cr3t", "--namespace=apps"}},
		{"create-secret-proxy-socks", []string{"secret", "proxy", "socks", "--address=socks5://127.0.0.1:1080", "--label=team=a"}},
		{"create-tenant", []string{"tenant", "dev-team", "--with-namespace=frontend", "--with-namespace=backend", "--label=environment=dev"}},
		{"create-tenant-cluster-role", []string{"tenant", "ops", "--with-namespace=ops", "--cluster-role=flux-tenant"}},
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
		{[]string{"tenant"}, "✗ tenant name is required"},
		{[]string{"tenant", "dev"}, "✗ --with-namespace is required"},
		{[]string{"tenant", "dev", "--with-namespace=Bad_NS"}, "✗ invalid namespace 'Bad_NS'"},
		{[]string{"tenant", "dev", "--with-namespace=x", "--cluster-role="}, "✗ --cluster-role is required"},
		{[]string{"tenant", "team_", "--with-namespace=x"}, "✗ invalid tenant name 'team_'"},
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
