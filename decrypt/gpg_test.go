package decrypt

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/getsops/sops/v3/pgp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestGnuPGKeys checks keys as users make them, with the gpg binary, and
// data keys encrypted by sops through gpg (its fallback when no pubring.gpg
// exists), against the in-memory decryptor, which itself never needs gpg.
func TestGnuPGKeys(t *testing.T) {
	gpgBin, err := exec.LookPath("gpg")
	if err != nil {
		t.Fatal("this test needs the GnuPG binary 'gpg' on PATH (Debian: apt-get install gnupg) to generate keys the way users do; the decrypt package itself does not use it")
	}
	tests := []struct {
		name   string
		algo   string // quick-gen-key algorithm ("default": gpg's default RSA key pair)
		export string
	}{
		{"default rsa", "default", "--export-secret-keys"},
		{"ed25519 cv25519", "future-default", "--export-secret-keys"},
		{"subkeys only", "future-default", "--export-secret-subkeys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			// GnuPG (and sops' GnuPGHome) insist on a private home; and
			// nothing may fall back to the user's ~/.gnupg.
			if err := os.Chmod(home, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := pgp.GnuPGHome(home).Validate(); err != nil {
				t.Fatal(err)
			}
			t.Setenv("GNUPGHOME", home)
			gpg := func(stdin []byte, args ...string) []byte {
				t.Helper()
				cmd := exec.Command(gpgBin, append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
				cmd.Stdin = bytes.NewReader(stdin)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("gpg %v: %v\n%s", args, err, stderr.String())
				}
				return out
			}
			t.Cleanup(func() {
				// gpg started an agent for this home; stop it.
				_ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
			})
			gpg(nil, "--quick-gen-key", "Flux Test <flux@example.com>", tt.algo, "default", "never")
			fpr := ""
			for _, line := range strings.Split(string(gpg(nil, "--with-colons", "--list-secret-keys")), "\n") {
				if strings.HasPrefix(line, "fpr:") {
					fpr = strings.Split(line, ":")[9]
					break
				}
			}
			if fpr == "" {
				t.Fatal("no fingerprint")
			}
			armored := gpg(nil, "--armor", tt.export, fpr)

			mk := pgp.NewMasterKeyFromFingerprint(fpr)
			pgp.GnuPGHome(home).ApplyToMasterKey(mk)
			enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", mk)

			d, err := NewDecryptor(map[string][]byte{"sops.asc": armored})
			if err != nil {
				t.Fatal(err)
			}
			obj := toObject(t, enc)
			if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
				t.Fatal(err)
			}
			if v, _, _ := unstructured.NestedString(obj.Object, "stringData", "token"); v != "s3cr3t-t0ken" {
				t.Fatalf("token = %q", v)
			}
		})
	}
}
