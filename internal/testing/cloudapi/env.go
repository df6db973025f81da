package cloudapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Clouds are the three clouds' identity servers, with the controller's environment pointed
// at them (see UseClouds).
type Clouds struct {
	AWS      *AWS
	EntraID  *EntraID
	Metadata *Metadata
	// AWSOptions and EntraIDOptions are the identities configured.
	AWSOptions     AWSOptions
	EntraIDOptions EntraIDOptions
	// ACRRefreshToken is what an ACR front exchanges Entra ID tokens for (Front.ACRRefreshToken).
	ACRRefreshToken string
}

// RegistryUsers are the registry users and passwords the clouds' credentials are for: an
// htpasswd for a real registry standing in for ECR, ACR and Artifact Registry.
func (c *Clouds) RegistryUsers() map[string]string {
	return map[string]string{
		"AWS":                                  c.AWSOptions.ECRPassword,
		"00000000-0000-0000-0000-000000000000": c.ACRRefreshToken,
		"oauth2accesstoken":                    c.Metadata.Token,
	}
}

// Secrets are every credential the clouds know, for asserting none leaks.
func (c *Clouds) Secrets() []string {
	var out []string
	for _, s := range []string{c.AWSOptions.WebIdentityToken, c.AWSOptions.ECRPassword, c.AWS.SecretAccessKey, c.AWS.SessionToken,
		c.EntraIDOptions.FederatedToken, c.EntraID.AccessToken, c.ACRRefreshToken, c.Metadata.Token} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// UseClouds starts the three clouds and sets the environment each SDK's default chain reads,
// as the clouds' workload identity webhooks would inject it into the controller's pod: IRSA
// (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE), Azure workload identity (AZURE_CLIENT_ID,
// AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST) and GKE's metadata
// server (GCE_METADATA_HOST). Everything else the chains read is cleared, so a developer's
// own credentials never take part. Not for parallel tests (it uses t.Setenv).
func UseClouds(t *testing.T) *Clouds { return UseCloudsWith(t, nil) }

// UseCloudsWith is UseClouds with the identities adjusted by configure before the servers
// start (object-level identities: Verify, RoleSubjects, FederatedSubjects).
func UseCloudsWith(t *testing.T, configure func(*Clouds)) *Clouds {
	t.Helper()
	IsolateEnv(t)
	c := &Clouds{
		AWSOptions:      AWSOptions{RoleARN: "arn:aws:iam::123456789012:role/flux", WebIdentityToken: Secret("irsa-jwt-"), ECRPassword: Secret("ecr-")},
		EntraIDOptions:  EntraIDOptions{TenantID: "tenant-" + Secret("")[:8], ClientID: "client-" + Secret("")[:8], FederatedToken: Secret("azwi-jwt-")},
		ACRRefreshToken: ACRRefreshToken(3 * time.Hour),
	}
	if configure != nil {
		configure(c)
	}
	c.AWS = StartAWS(t, c.AWSOptions)
	c.EntraID = StartEntraID(t, c.EntraIDOptions)
	c.Metadata = StartMetadata(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("AWS_ROLE_ARN", c.AWSOptions.RoleARN)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write("aws-token", c.AWSOptions.WebIdentityToken))
	t.Setenv("AWS_ENDPOINT_URL_STS", c.AWS.URL)
	t.Setenv("AWS_ENDPOINT_URL_ECR", c.AWS.URL)
	t.Setenv("AZURE_AUTHORITY_HOST", c.EntraID.URL)
	t.Setenv("AZURE_TENANT_ID", c.EntraIDOptions.TenantID)
	t.Setenv("AZURE_CLIENT_ID", c.EntraIDOptions.ClientID)
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", write("azure-token", c.EntraIDOptions.FederatedToken))
	t.Setenv("GCE_METADATA_HOST", c.Metadata.Host)
	return c
}

// IsolateEnv clears every variable the clouds' SDKs read for credentials and endpoints,
// and points their config files and home at an empty directory. Not for parallel tests.
func IsolateEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ECR", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE",
		"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE",
		"AZURE_AUTHORITY_HOST", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "IDENTITY_ENDPOINT", "MSI_ENDPOINT",
		"GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "GCE_METADATA_IP"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", dir)
	t.Setenv("CLOUDSDK_CONFIG", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	// IMDS would be tried (and time out) when nothing else gives AWS credentials.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// Only workload identity: no Azure CLI, developer CLI or PowerShell credentials.
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "prod")
}

// TokenFile writes a projected-token file (a web identity or federated token, as the
// clouds' webhooks mount them) and returns its path.
func TokenFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// UseAWSWebIdentity sets up IRSA against a fresh AWS server: the web identity token file
// and role the EKS webhook would inject, the STS and ECR endpoints pointed at the server.
func UseAWSWebIdentity(t *testing.T) *AWS {
	t.Helper()
	opts := AWSOptions{RoleARN: "arn:aws:iam::123456789012:role/flux", WebIdentityToken: Secret("sa-jwt-"), ECRPassword: Secret("ecr-")}
	a := StartAWS(t, opts)
	t.Setenv("AWS_ROLE_ARN", opts.RoleARN)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", TokenFile(t, opts.WebIdentityToken))
	t.Setenv("AWS_ENDPOINT_URL_STS", a.URL)
	t.Setenv("AWS_ENDPOINT_URL_ECR", a.URL)
	return a
}

// UseAzureWorkloadIdentity starts an Entra ID endpoint for opts and points the Azure SDK's
// workload identity variables at it, as the AKS webhook does for a pod, for t only.
func UseAzureWorkloadIdentity(t *testing.T, opts EntraIDOptions) *EntraID {
	t.Helper()
	e := StartEntraID(t, opts)
	t.Setenv("AZURE_AUTHORITY_HOST", e.URL)
	t.Setenv("AZURE_TENANT_ID", opts.TenantID)
	t.Setenv("AZURE_CLIENT_ID", opts.ClientID)
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", TokenFile(t, opts.FederatedToken))
	return e
}

// NoSecretIn fails t when msg (an error, a condition) contains any of the non-empty secrets.
func NoSecretIn(t testing.TB, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Fatalf("error leaks a credential: %s", msg)
		}
	}
}
