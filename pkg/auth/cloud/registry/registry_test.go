package registry

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
)

// kube is the API server of the object-level identity tests (service accounts, their
// tokens, TokenReview), started by the first test that needs one.
var kube testenv.Lazy

func TestMain(m *testing.M) {
	cloudapi.InstallHostRouter()
	testenv.MainLazy(m, &kube)
}

const (
	ecrHostName = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	acrHostName = "gotk.azurecr.io"
	garHostName = "europe-west1-docker.pkg.dev"
)

func TestECRLoginWithWebIdentity(t *testing.T) {
	cloudapi.IsolateEnv(t)
	a := cloudapi.UseAWSWebIdentity(t)
	l := &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 10, MaxDuration: time.Hour})}
	ctx := context.Background()
	for range 2 {
		tok, err := Login(ctx, l, cloud.ProviderAWS, ecrHostName, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Username != "AWS" || tok.Value == "" || tok.ExpiresAt.Before(time.Now().Add(11*time.Hour)) {
			t.Fatalf("unexpected ECR login: user %q, expires %s", tok.Username, tok.ExpiresAt)
		}
	}
	if c := a.Counts(); c.STS != 1 || c.ECR != 1 {
		t.Fatalf("the second login must come from the cache: %+v", c)
	}

	// A refusing ECR: the error names the provider, identity, operation and endpoint.
	a.RefuseECR.Store(true)
	l.Cache = nil
	_, err := Login(ctx, l, cloud.ProviderAWS, ecrHostName, nil)
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"provider 'aws'", "controller's workload identity", "ECR GetAuthorizationToken in eu-west-1",
		strings.TrimPrefix(a.URL, "http://"), "AccessDeniedException"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	cloudapi.NoSecretIn(t, err.Error(), a.SessionToken, a.SecretAccessKey)
}

func TestECRLoginSTSRefuses(t *testing.T) {
	cloudapi.IsolateEnv(t)
	a := cloudapi.UseAWSWebIdentity(t)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", cloudapi.TokenFile(t, "a-token-of-another-cluster"))
	_, err := Login(context.Background(), &cloud.Logins{}, cloud.ProviderAWS, ecrHostName, nil)
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"provider 'aws'", "AssumeRoleWithWebIdentity", "AccessDenied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	cloudapi.NoSecretIn(t, err.Error(), "a-token-of-another-cluster")
	if c := a.Counts(); c.ECR != 0 {
		t.Fatalf("ECR asked without credentials: %+v", c)
	}
}

func TestGCPLoginFromMetadataServer(t *testing.T) {
	cloudapi.IsolateEnv(t)
	m := cloudapi.StartMetadata(t)
	t.Setenv("GCE_METADATA_HOST", m.Host)
	l := &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 10, MaxDuration: time.Hour})}
	for _, host := range []string{garHostName, garHostName, "gcr.io", "eu.gcr.io"} {
		tok, err := Login(context.Background(), l, cloud.ProviderGCP, host, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Username != "oauth2accesstoken" || tok.Value != m.Token {
			t.Fatalf("unexpected login for %s: user %q", host, tok.Username)
		}
	}
	if c := m.Counts(); c.Metadata != 3 {
		t.Fatalf("one token request per registry host expected, got %+v", c)
	}
	m.Refuse.Store(true)
	_, err := Login(context.Background(), &cloud.Logins{}, cloud.ProviderGCP, garHostName, nil)
	if err == nil || !strings.Contains(err.Error(), "metadata server ("+m.Host+")") || !strings.Contains(err.Error(), "provider 'gcp'") {
		t.Fatalf("error must name the provider and the metadata server: %v", err)
	}
}

func TestACRLoginWithWorkloadIdentity(t *testing.T) {
	cloudapi.IsolateEnv(t)
	opts := cloudapi.EntraIDOptions{TenantID: "tenant-1", ClientID: "client-1", FederatedToken: cloudapi.Secret("projected-")}
	e := cloudapi.UseAzureWorkloadIdentity(t, opts)
	front := cloudapi.StartFront(t, "http://127.0.0.1:1", acrHostName)
	front.ACRAccessToken, front.ACRRefreshToken = e.AccessToken, cloudapi.ACRRefreshToken(3*time.Hour)

	l := &cloud.Logins{
		Cache:                         auth.NewTokenCache(auth.CacheOptions{MaxSize: 10, MaxDuration: time.Hour}),
		HTTPClient:                    cloudapi.HTTPClient(),
		AzureDisableInstanceDiscovery: true,
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(front.CAPEM)
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	for range 2 {
		tok, err := Login(context.Background(), l, cloud.ProviderAzure, acrHostName, tr)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Username != acrRefreshTokenUser || tok.Value != front.ACRRefreshToken ||
			tok.ExpiresAt.Before(time.Now().Add(2*time.Hour)) || tok.ExpiresAt.After(time.Now().Add(3*time.Hour)) {
			t.Fatalf("unexpected ACR login: user %q, expires %s", tok.Username, tok.ExpiresAt)
		}
	}
	if c, x := e.Counts(), front.Counts(); c.EntraID != 1 || x.ACRExchange != 1 {
		t.Fatalf("the second login must come from the cache: %+v %+v", c, x)
	}
	if len(e.Scopes) != 1 || strings.Fields(e.Scopes[0])[0] != "https://management.core.windows.net/.default" {
		t.Fatalf("the Entra ID token must be for Resource Manager, got scopes %v", e.Scopes)
	}

	// An identity without a federated credential: the error names Entra ID and its host.
	e.Refuse.Store(true)
	_, err := Login(context.Background(), &cloud.Logins{HTTPClient: l.HTTPClient, AzureDisableInstanceDiscovery: true}, cloud.ProviderAzure, acrHostName, tr)
	if err == nil || !strings.Contains(err.Error(), "Microsoft Entra ID ("+e.URL+")") || !strings.Contains(err.Error(), "AADSTS700213") {
		t.Fatalf("error must name Entra ID and why: %v", err)
	}
	cloudapi.NoSecretIn(t, err.Error(), opts.FederatedToken)

	// A registry that refuses the exchange: named with its endpoint, no token quoted.
	e.Refuse.Store(false)
	front.ACRAccessToken = "another"
	_, err = Login(context.Background(), &cloud.Logins{HTTPClient: l.HTTPClient, AzureDisableInstanceDiscovery: true}, cloud.ProviderAzure, acrHostName, tr)
	if err == nil || !strings.Contains(err.Error(), "https://"+acrHostName+"/oauth2/exchange") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("error must name the exchange endpoint: %v", err)
	}
	cloudapi.NoSecretIn(t, err.Error(), e.AccessToken, front.ACRRefreshToken)
}

func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		provider, host string
		ok             bool
	}{
		{cloud.ProviderAWS, ecrHostName, true},
		{cloud.ProviderAWS, "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", true},
		{cloud.ProviderAWS, "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", true},
		{cloud.ProviderAWS, "ghcr.io", false},
		{cloud.ProviderAWS, "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", false},
		{cloud.ProviderAzure, "gotk.azurecr.io", true},
		{cloud.ProviderAzure, "gotk.azurecr.io:443", true},
		{cloud.ProviderAzure, ".azurecr.io", false},
		{cloud.ProviderAzure, "azurecr.io.evil.example", false},
		{cloud.ProviderGCP, "gcr.io", true},
		{cloud.ProviderGCP, "us.gcr.io", true},
		{cloud.ProviderGCP, "europe-west1-docker.pkg.dev", true},
		{cloud.ProviderGCP, "docker.io", false},
	} {
		err := CheckHost(tc.provider, tc.host)
		if (err == nil) != tc.ok || (err != nil && !cloud.IsHostError(err)) {
			t.Errorf("%s %s: %v", tc.provider, tc.host, err)
		}
	}
}
