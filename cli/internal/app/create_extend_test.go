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
