//go:build !sops_no_azurekv

package decrypt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/keys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/internal/testing/azurekvapi"
)

// azureKey is a sops azure_kv master key on srv's key name@version, encrypting with the
// client secret identity as `sops --azure-kv` does (Key Vault's encrypt, RSA-OAEP-256).
func azureKey(t testing.TB, srv *azurekvapi.Server, clientID, secret, name, version string) keys.MasterKey {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(azurekvapi.Tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: srv.AuthorityHost()}},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mk := azkv.NewMasterKey(srv.VaultURL(), name, version)
	azkv.NewTokenCredential(cred).ApplyToMasterKey(mk)
	return mk
}

// azureEntryYAML is a sops.azure-kv entry for a service principal with a client secret on srv.
func azureEntryYAML(srv *azurekvapi.Server, clientID, secret string) []byte {
	return []byte("tenantId: " + azurekvapi.Tenant + "\nclientId: " + clientID + "\nclientSecret: " + secret + "\nauthorityHost: " + srv.AuthorityHost() + "\n")
}

// TestDecryptAzureKV decrypts documents whose data key is encrypted with Azure Key Vault,
// against a server written to the identity platform and Key Vault references over TLS, with
// each of upstream's sops.azure-kv forms and with the controller's identity (workload
// identity: a federated token file). Missing or wrong credentials, a disabled key and entries
// naming files each fail on one line naming the document, the key URL and why, without the
// secret. Not parallel: the controller's identity comes from the environment.
func TestDecryptAzureKV(t *testing.T) {
	srv := azurekvapi.Start(t)
	const clientID, secret, wrongSecret = "0b1c2d3e-sops-app", "kv-cl1ent-s3cret~value", "kv-wr0ng-s3cret~value"
	srv.AddClientSecret(clientID, secret)
	version := srv.CreateKey("sops")
	disabledVersion := srv.CreateKey("retired")
	keyURL := srv.VaultURL() + "/keys/sops/" + version

	enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", azureKey(t, srv, clientID, secret, "sops", version))
	if !strings.Contains(string(enc), "azure_kv") || strings.Contains(string(enc), "s3cr3t-t0ken") {
		t.Fatalf("unexpected encryption:\n%s", enc)
	}
	disabled := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", azureKey(t, srv, clientID, secret, "retired", disabledVersion))
	srv.Disable("retired", disabledVersion)

	certClient := "5f6a7b8c-cert-app"
	cert, certPEM := azurekvapi.CertificatePEM(t, "sops client")
	srv.AddClientCertificate(certClient, cert)

	decryptOne := func(t *testing.T, doc []byte, secretData map[string][]byte) error {
		t.Helper()
		d, err := NewDecryptor(secretData)
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
	for _, tc := range []struct {
		name  string
		entry string
	}{
		{"client secret", string(azureEntryYAML(srv, clientID, secret))},
		{"client secret as JSON", `{"tenantId":"` + azurekvapi.Tenant + `","clientId":"` + clientID + `","clientSecret":"` + secret + `","authorityHost":"` + srv.AuthorityHost() + `"}`},
		{"az output", `{"appId":"` + clientID + `","displayName":"sops","name":"http://sops","password":"` + secret + `","tenant":"` + azurekvapi.Tenant + `","authorityHost":"` + srv.AuthorityHost() + `"}`},
		{"client certificate", "tenantId: " + azurekvapi.Tenant + "\nclientId: " + certClient + "\nauthorityHost: " + srv.AuthorityHost() +
			"\nclientCertificateSendChain: true\nclientCertificate: |\n  " + strings.ReplaceAll(strings.TrimSpace(string(certPEM)), "\n", "\n  ") + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := decryptOne(t, enc, map[string][]byte{AzureKVKey: []byte(tc.entry)}); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("managed identity client ID", func(t *testing.T) {
		const miClient = "2a3b4c5d-kubelet-identity"
		endpoint, header := srv.AddManagedIdentity(miClient)
		t.Setenv("IDENTITY_ENDPOINT", endpoint)
		t.Setenv("IDENTITY_HEADER", header)
		if err := decryptOne(t, enc, map[string][]byte{AzureKVKey: []byte("clientId: " + miClient + "\n")}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("controller workload identity", func(t *testing.T) {
		resetControllerAzure(t)
		const wiClient, federated = "9d8c7b6a-flux-wi", "eyJhbGciOiJSUzI1NiJ9.service-account-t0ken.sig"
		srv.AddFederatedToken(wiClient, federated)
		tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
		if err := os.WriteFile(tokenFile, []byte(federated), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AZURE_TENANT_ID", azurekvapi.Tenant)
		t.Setenv("AZURE_CLIENT_ID", wiClient)
		t.Setenv("AZURE_FEDERATED_TOKEN_FILE", tokenFile)
		t.Setenv("AZURE_AUTHORITY_HOST", srv.AuthorityHost())
		if err := decryptOne(t, enc, nil); err != nil {
			t.Fatal(err)
		}
	})

	for _, tc := range []struct {
		name   string
		doc    []byte
		secret map[string][]byte
		env    bool
		want   []string
	}{
		{"wrong secret", enc, map[string][]byte{AzureKVKey: azureEntryYAML(srv, clientID, wrongSecret)}, false,
			[]string{"Azure Key Vault key " + keyURL, "invalid_client", "AADSTS7000215"}},
		{"unknown client", enc, map[string][]byte{AzureKVKey: azureEntryYAML(srv, "someone-else", secret)}, false,
			[]string{"Azure Key Vault key " + keyURL, "invalid_client"}},
		{"disabled key", disabled, map[string][]byte{AzureKVKey: azureEntryYAML(srv, clientID, secret)}, false,
			[]string{"Azure Key Vault key " + srv.VaultURL() + "/keys/retired/" + disabledVersion, "403", "not allowed on a disabled key"}},
		{"no identity", enc, nil, true, []string{"Azure Key Vault key " + keyURL, "no 'sops.azure-kv' entry", "DefaultAzureCredential"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env {
				// Only workload identity: managed identity would probe this machine's
				// instance metadata address, which is not Azure's.
				resetControllerAzure(t)
				t.Setenv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential")
				for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"} {
					t.Setenv(v, "")
				}
			}
			err := decryptOne(t, tc.doc, tc.secret)
			if err == nil {
				t.Fatal("decrypted")
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range append([]string{"Secret/db"}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			assertNoLeak(t, msg, secret, wrongSecret, "s3cr3t-t0ken", "PRIVATE KEY")
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}

	for _, tc := range []struct {
		name, entry, want string
	}{
		{"certificate path refused", "tenantId: t\nclientId: c\nclientCertificatePath: /var/run/secrets/azure/cert.pem\n", `unsupported field "clientCertificatePath"`},
		{"token file refused", "clientId: c\nfederatedTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n", `unsupported field "federatedTokenFile"`},
		{"plain http authority", "tenantId: t\nclientId: c\nclientSecret: " + secret + "\nauthorityHost: http://127.0.0.1:1/\n", "authorityHost is not an https URL"},
		{"incomplete", "tenantId: t\nclientSecret: " + secret + "\n", "needs tenantId, clientId and clientSecret"},
		{"not an object", "- " + secret + "\n", "not a JSON or YAML object"},
		{"bad certificate", "tenantId: t\nclientId: c\nclientCertificate: " + secret + "\n", "clientCertificate is not a PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDecryptor(map[string][]byte{AzureKVKey: []byte(tc.entry)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			assertNoLeak(t, err.Error(), secret)
		})
	}
}

// resetControllerAzure forgets the controller's cached Azure identity for the test's
// environment, and again after it.
func resetControllerAzure(t *testing.T) {
	reset := func() {
		controllerAzure.Lock()
		controllerAzure.cred = nil
		controllerAzure.Unlock()
	}
	reset()
	t.Cleanup(reset)
}
