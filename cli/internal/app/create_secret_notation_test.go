package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"
)

// TestCreateSecretNotation exports a notation verification Secret (golden file) and refuses
// files source-controller could not use, naming the flag and the file.
func TestCreateSecretNotation(t *testing.T) {
	missing := "--kubeconfig=" + filepath.Join(t.TempDir(), "missing")
	policy := "--trust-policy-file=testdata/create-notation-trustpolicy.json"
	r := runFlux(t, "", "create", "secret", "notation", "notation-config", policy, "--ca-cert-file=testdata/create-ca.crt",
		"--namespace=apps", "--export", missing)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	golden.Assert(t, "create-secret-notation", r.stdout)

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badPolicy := write("bad.json", `{"version": "1.0", "trustPolicies": [{"name": "x", "registryScopes": ["*"], "signatureVerification": {"level": "strict"}}]}`)
	notJSON := write("policy.yaml", "version: 1.0\n")
	wrongExt := write("ca.txt", "x")
	notPEM := write("ca.pem", "not a certificate")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ca-cert-file=testdata/create-ca.crt"}, "--trust-policy-file is required"},
		{[]string{policy}, "--ca-cert-file is required"},
		{[]string{"--trust-policy-file=" + notJSON, "--ca-cert-file=testdata/create-ca.crt"}, "is not JSON"},
		{[]string{"--trust-policy-file=" + badPolicy, "--ca-cert-file=testdata/create-ca.crt"}, "trust store"},
		{[]string{policy, "--ca-cert-file=" + wrongExt}, "the file name must end in .pem or .crt"},
		{[]string{policy, "--ca-cert-file=" + notPEM}, "holds no PEM certificate"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			r := runFlux(t, "", append(append([]string{"create", "secret", "notation", "x"}, tc.args...), "--export", missing)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
