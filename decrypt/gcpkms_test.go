package decrypt

import (
	"strings"
	"testing"

	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/keys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/internal/testing/gcpkmsapi"
)

// TestDecryptGCPKMS decrypts documents whose data key is encrypted with Google Cloud KMS,
// against a server written to the KMS REST reference, with the service account key of the
// sops.gcp-kms entry (its token_uri is the test server). A missing identity, a disabled key
// and credential types other than service account keys each fail with a clear error. Not
// parallel: the endpoint and the REST client are chosen with sops' environment variables.
func TestDecryptGCPKMS(t *testing.T) {
	srv := gcpkmsapi.Start(t)
	t.Setenv(gcpkms.SopsGCPKMSEndpointEnv, srv.Endpoint())
	t.Setenv(gcpkms.SopsGCPKMSClientTypeEnv, "rest")
	t.Setenv(gcpkms.SopsGoogleCredentialsEnv, "")
	t.Setenv(gcpkms.SopsGoogleCredentialsOAuthTokenEnv, "")
	// No application default credentials on this machine: the controller-identity path
	// must fail cleanly rather than find some.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")

	sa := srv.ServiceAccountJSON()
	const resource = "projects/gotk-test/locations/global/keyRings/flux/cryptoKeys/sops"
	const disabledResource = "projects/gotk-test/locations/global/keyRings/flux/cryptoKeys/disabled"
	gcpKey := func(resourceID string) keys.MasterKey {
		mk := gcpkms.NewMasterKeyFromResourceID(resourceID)
		gcpkms.CredentialJSON(sa).ApplyToMasterKey(mk)
		return mk
	}
	enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", gcpKey(resource))
	disabled := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", gcpKey(disabledResource))
	srv.Disable(disabledResource)

	decryptOne := func(t *testing.T, doc []byte, secret map[string][]byte) error {
		t.Helper()
		d, err := NewDecryptor(secret)
		if err != nil {
			t.Fatal(err)
		}
		obj := toObject(t, doc)
		if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
			return err
		}
		if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "token"); got != "s3cr3t-t0ken" {
			t.Fatalf("stringData.token = %q after decryption", got)
		}
		return nil
	}
	t.Run("service account", func(t *testing.T) {
		if err := decryptOne(t, enc, map[string][]byte{GCPKMSKey: sa}); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name   string
		doc    []byte
		secret map[string][]byte
		want   []string
	}{
		{"disabled key", disabled, map[string][]byte{GCPKMSKey: sa}, []string{"GCP KMS key " + disabledResource, "not in state ENABLED"}},
		{"no identity", enc, nil, []string{"GCP KMS key " + resource}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decryptOne(t, tc.doc, tc.secret)
			if err == nil {
				t.Fatal("decrypted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
	t.Run("external account refused", func(t *testing.T) {
		_, err := NewDecryptor(map[string][]byte{GCPKMSKey: []byte(`{"type":"external_account","credential_source":{"file":"/var/run/secrets/token"}}`)})
		if err == nil || !strings.Contains(err.Error(), `"external_account"`) {
			t.Fatalf("error %v", err)
		}
	})
}
