package controller

import (
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryAzureProvider clones with spec.provider azure: the controller's Azure
// workload identity gets an Entra ID token for Azure DevOps, which the Git server (standing
// in for Azure Repos) takes as a bearer token and nothing else. spec.serviceAccountName
// without the ObjectLevelWorkloadIdentity gate stalls.
func TestGitRepositoryAzureProvider(t *testing.T) {
	logMark := suiteEnv.logs.Mark()
	clouds := cloudapi.UseClouds(t)
	srv := gitserver.New(t, gitserver.Options{BearerToken: clouds.EntraID.AccessToken})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").Files(map[string]string{"app.yaml": "from azure repos"}).MustDo(t)

	ns := newNamespace(t)
	obj := newGitRepository(ns, "azure", url, func(o *sourcev1.GitRepository) {
		o.Spec.Provider = sourcev1.GitProviderAzure
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, obj)
	waitReady(t, obj)
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "from azure repos"})
	if c := clouds.EntraID.Counts(); c.EntraID != 1 {
		t.Errorf("Entra ID tokens = %d, want 1", c.EntraID)
	}

	withSA := newGitRepository(ns, "azure-sa", url, func(o *sourcev1.GitRepository) {
		o.Spec.Provider = sourcev1.GitProviderAzure
		o.Spec.ServiceAccountName = "tenant"
	})
	create(t, withSA)
	waitNotReady(t, withSA, meta.FeatureGateDisabledReason)
	wantCondition(t, withSA, meta.StalledCondition, metav1.ConditionTrue, meta.FeatureGateDisabledReason, "ObjectLevelWorkloadIdentity")
	wantNoSecret(t, obj, clouds.Secrets()...)
	suiteEnv.logs.NoSecrets(t, logMark, []string{obj.Name, withSA.Name}, clouds.Secrets()...)
}
