package cloud

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"gotk.dev/internal/testing/cloudapi"
)

func TestMain(m *testing.M) {
	cloudapi.InstallHostRouter()
	os.Exit(m.Run())
}

func TestAzureDevOpsToken(t *testing.T) {
	cloudapi.IsolateEnv(t)
	opts := cloudapi.EntraIDOptions{TenantID: "tenant-2", ClientID: "client-2", FederatedToken: cloudapi.Secret("projected-")}
	e := cloudapi.UseAzureWorkloadIdentity(t, opts)
	l := &Logins{HTTPClient: cloudapi.HTTPClient(), AzureDisableInstanceDiscovery: true}
	tok, err := l.AzureDevOpsToken(context.Background(), "ns", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Value != e.AccessToken || len(e.Scopes) != 1 || strings.Fields(e.Scopes[0])[0] != AzureDevOpsScope {
		t.Fatalf("unexpected token request: scopes %v", e.Scopes)
	}
	if _, err := l.AzureDevOpsToken(context.Background(), "ns", "tenant"); !errors.Is(err, ErrObjectLevelDisabled) {
		t.Fatalf("a service account without the gate must be refused, got %v", err)
	}
	e.Refuse.Store(true)
	_, err = l.AzureDevOpsToken(context.Background(), "ns", "")
	if err == nil || !strings.Contains(err.Error(), "Microsoft Entra ID ("+e.URL+")") || !strings.Contains(err.Error(), "controller's workload identity") {
		t.Fatalf("error must name the identity and Entra ID: %v", err)
	}
	cloudapi.NoSecretIn(t, err.Error(), opts.FederatedToken, e.AccessToken)
}
