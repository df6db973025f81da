package registry

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/auth/cloud/gcp"
)

// wifProvider is a workload identity pool provider trusting the test cluster's service
// account tokens, as a cluster outside GKE is set up.
const wifProvider = "projects/123456789012/locations/global/workloadIdentityPools/flux-pool/providers/kind-cluster"

// tokenReviewer verifies service account tokens with the API server, as Google's STS
// verifies them with the cluster's OIDC keys.
func tokenReviewer(t *testing.T, env *testenv.Env) cloudapi.VerifyFunc {
	return cloudapi.TokenReviewer(context.Background(), env.Client)
}

func createServiceAccounts(t *testing.T, env *testenv.Env, ns string, annotations map[string]map[string]string) {
	t.Helper()
	for name, ann := range annotations {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}}
		if err := env.Client.Create(context.Background(), sa); err != nil {
			t.Fatal(err)
		}
	}
}

// closedAddress is a host:port nothing listens on: a metadata server that is not there
// (outside GKE), failing at once instead of timing out.
func closedAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestGCPWorkloadIdentityProvider: outside GKE, a service account annotated with
// gcp.auth.fluxcd.io/workload-identity-provider gets a token with that provider as its
// audience, exchanged at Google's STS (which verifies it with the API server), then
// impersonates the iam.gke.io/gcp-service-account it names, or uses the federated token
// directly without one. No metadata server is reachable. Every GCP object-level consumer
// (registries, KMS, storage) goes through this one exchange. Bad annotations are refused
// naming the service account and the annotation before anything is sent.
func TestGCPWorkloadIdentityProvider(t *testing.T) {
	env := kube.Get(t)
	cloudapi.IsolateEnv(t)
	t.Setenv("GCE_METADATA_HOST", closedAddress(t))
	ns := env.NewNamespace(t, "gcp-wif")
	subject := func(sa string) string { return "system:serviceaccount:" + ns + ":" + sa }
	const gsa = "team-a@gotk-test.iam.gserviceaccount.com"
	accessToken := cloudapi.Secret("ya29.team-a-")
	google := cloudapi.StartGoogleIAM(t, cloudapi.GoogleIAMOptions{Verify: tokenReviewer(t, env), Providers: []string{wifProvider},
		ServiceAccountSubjects: map[string]string{gsa: subject("team-a")}, AccessToken: accessToken})
	wip := cloud.AnnotationGCPWorkloadIdentityProvider
	createServiceAccounts(t, env, ns, map[string]map[string]string{
		"team-a":   {wip: wifProvider, cloud.AnnotationGCPServiceAcct: gsa},
		"direct":   {wip: wifProvider},
		"intruder": {wip: wifProvider, cloud.AnnotationGCPServiceAcct: gsa},
		"full-url": {wip: "//iam.googleapis.com/" + wifProvider},
		"bad-gsa":  {wip: wifProvider, cloud.AnnotationGCPServiceAcct: "team-a@gotk-test.iam.gserviceaccount.com/../../x"},
		"on-gke":   {cloud.AnnotationGCPServiceAcct: gsa},
	})
	l := &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 10, MaxDuration: time.Hour}), HTTPClient: cloudapi.HTTPClient(),
		ObjectLevel: true, Kube: env.Client}
	ctx := context.Background()

	// A registry login impersonates team-a's Google service account.
	kc, err := Keychain(ctx, l, Request{Provider: cloud.ProviderGCP, Host: garHostName, Namespace: ns, ServiceAccount: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := resolve(t, kc, garHostName); cfg.Username != "oauth2accesstoken" || cfg.Password != accessToken {
		t.Fatalf("registry login is not team-a's Google service account token (user %q)", cfg.Username)
	}
	if got := google.Audiences; len(got) != 1 || got[0] != "//iam.googleapis.com/"+wifProvider {
		t.Fatalf("STS exchange audiences = %q, want the provider's full resource name", got)
	}
	if c := google.Counts(); c.GoogleSTS != 1 || c.GoogleIAM != 1 {
		t.Fatalf("one exchange and one impersonation expected: %+v", c)
	}

	// Storage without impersonation: the federated token of the service account itself.
	tok, err := gcp.TokenSource(l, cloud.PurposeStorage, ns, "direct").Token()
	if err != nil {
		t.Fatal(err)
	}
	if sub, ok := google.FederatedSubject(tok.AccessToken); !ok || sub != subject("direct") {
		t.Fatalf("storage token is not the federated token of %s (got %q)", subject("direct"), sub)
	}

	// Another service account naming the same Google service account is refused by IAM.
	_, err = gcp.TokenSource(l, cloud.PurposeKMS, ns, "intruder").Token()
	wantError(t, err, "provider 'gcp'", "KMS credentials", "service account '"+ns+"/intruder' (Google service account "+gsa+", workload identity provider "+wifProvider+")",
		"generateAccessToken", "PERMISSION_DENIED")
	cloudapi.NoSecretIn(t, err.Error(), accessToken, "eyJ")

	// Bad annotations: nothing is sent.
	before := google.Counts()
	_, err = gcp.TokenSource(l, cloud.PurposeStorage, ns, "full-url").Token()
	wantError(t, err, "storage credentials", "service account '"+ns+"/full-url'", "invalid '"+wip+"' annotation",
		"projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>", "without the //iam.googleapis.com/ prefix")
	_, err = Keychain(ctx, l, Request{Provider: cloud.ProviderGCP, Host: garHostName, Namespace: ns, ServiceAccount: "bad-gsa"})
	wantError(t, err, "service account '"+ns+"/bad-gsa'", "invalid '"+cloud.AnnotationGCPServiceAcct+"' annotation")
	if after := google.Counts(); after != before {
		t.Fatalf("a bad annotation reached Google: %+v -> %+v", before, after)
	}

	// Without the annotation outside GKE: the error says where the pool was looked for and
	// which annotation names it.
	_, err = gcp.TokenSource(l, cloud.PurposeStorage, ns, "on-gke").Token()
	wantError(t, err, "service account '"+ns+"/on-gke'", "GKE metadata server", wip)
}

// TestGCPControllerExternalAccount: the controller's own identity outside GKE is
// Application Default Credentials with an external_account credentials file (workload
// identity federation): the Google SDK reads the projected service account token named in
// it, exchanges it at STS for the provider and impersonates the Google service account. A
// token of another service account is refused, and the error names the credentials file.
func TestGCPControllerExternalAccount(t *testing.T) {
	env := kube.Get(t)
	cloudapi.IsolateEnv(t)
	t.Setenv("GCE_METADATA_HOST", closedAddress(t))
	ns := env.NewNamespace(t, "gcp-adc")
	const gsa = "flux@gotk-test.iam.gserviceaccount.com"
	accessToken := cloudapi.Secret("ya29.flux-")
	google := cloudapi.StartGoogleIAM(t, cloudapi.GoogleIAMOptions{Verify: tokenReviewer(t, env), Providers: []string{wifProvider},
		ServiceAccountSubjects: map[string]string{gsa: "system:serviceaccount:" + ns + ":source-controller"}, AccessToken: accessToken})
	createServiceAccounts(t, env, ns, map[string]map[string]string{"source-controller": nil, "other": nil})

	// What a projected service account token volume and a credential configuration file
	// (gcloud iam workload-identity-pools create-cred-config) put into the pod.
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	writeToken := func(sa string) {
		secs := int64(600)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{"//iam.googleapis.com/" + wifProvider}, ExpirationSeconds: &secs}}
		acct := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}
		if err := env.Client.SubResource("token").Create(context.Background(), acct, tr); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tokenFile, []byte(tr.Status.Token), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config, err := json.Marshal(map[string]any{
		"type":                              "external_account",
		"audience":                          "//iam.googleapis.com/" + wifProvider,
		"subject_token_type":                "urn:ietf:params:oauth:token-type:jwt",
		"token_url":                         "https://sts.googleapis.com/v1/token",
		"service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/" + gsa + ":generateAccessToken",
		"credential_source":                 map[string]any{"file": tokenFile, "format": map[string]string{"type": "text"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(configFile, config, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", configFile)

	writeToken("source-controller")
	l := &cloud.Logins{HTTPClient: cloudapi.HTTPClient()}
	tok, err := Login(context.Background(), l, cloud.ProviderGCP, garHostName, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Username != "oauth2accesstoken" || tok.Value != accessToken {
		t.Fatalf("registry login is not the controller's Google service account token (user %q)", tok.Username)
	}
	if c := google.Counts(); c.GoogleSTS != 1 || c.GoogleIAM != 1 {
		t.Fatalf("one exchange and one impersonation expected: %+v", c)
	}

	writeToken("other")
	_, err = Login(context.Background(), l, cloud.ProviderGCP, garHostName, nil)
	wantError(t, err, "provider 'gcp'", "controller's", "GOOGLE_APPLICATION_CREDENTIALS", "PERMISSION_DENIED")
	cloudapi.NoSecretIn(t, err.Error(), accessToken, "eyJ")
}

func wantError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error saying %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not say %q", err, f)
		}
	}
}

// resolve returns the credentials kc holds for host.
func resolve(t *testing.T, kc authn.Keychain, host string) *authn.AuthConfig {
	t.Helper()
	reg, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
