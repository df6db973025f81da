package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// TestCreateSecretGitHubApp exports GitHub App Secrets (golden files) and refuses flags that
// source-controller could not use, naming the flag and never printing the key.
func TestCreateSecretGitHubApp(t *testing.T) {
	missing := "--kubeconfig=" + filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create-secret-githubapp-id", []string{"--app-id=1", "--app-installation-id=2", "--app-private-key=testdata/create-githubapp.pem"}},
		{"create-secret-githubapp-owner-enterprise", []string{"--app-id=1", "--app-installation-owner=fleet",
			"--app-private-key=testdata/create-githubapp.pem", "--app-base-url=https://github.example.com/api/v3", "--namespace=apps"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := runFlux(t, "", append(append([]string{"create", "secret", "githubapp", "podinfo-auth"}, tc.args...), "--export", missing)...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden.Assert(t, tc.golden, r.stdout)
		})
	}

	const secret = "n0t-a-r3al-k3y-d0-n0t-pr1nt"
	badKey := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(badKey, []byte("-----BEGIN RSA PRIVATE KEY-----\n"+secret+"\n-----END RSA PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := "--app-private-key=testdata/create-githubapp.pem"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--app-installation-id=2", key}, "--app-id is required"},
		{[]string{"--app-id=1", key}, "--app-installation-id or --app-installation-owner is required"},
		{[]string{"--app-id=1", "--app-installation-id=2", "--app-installation-owner=o", key}, "cannot be used together"},
		{[]string{"--app-id=1", "--app-installation-id=2"}, "--app-private-key is required"},
		{[]string{"--app-id=one", "--app-installation-id=2", key}, `invalid --app-id "one"`},
		{[]string{"--app-id=1", "--app-installation-id=-2", key}, `invalid --app-installation-id "-2"`},
		{[]string{"--app-id=1", "--app-installation-id=2", key, "--app-base-url=github.example.com"}, "invalid --app-base-url"},
		{[]string{"--app-id=1", "--app-installation-id=2", "--app-private-key=" + badKey}, "is not a PEM-encoded RSA private key"},
		{[]string{"--app-id=1", "--app-installation-id=2", "--app-private-key=/does/not/exist"}, "read --app-private-key file"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			r := runFlux(t, "", append(append([]string{"create", "secret", "githubapp", "x"}, tc.args...), "--export", missing)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr+r.stdout, secret) {
				t.Fatalf("output prints the key: %s", r.stderr)
			}
		})
	}
}
