package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/codecommitapi"
	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryAWSProvider clones from AWS CodeCommit with spec.provider aws: the
// controller's AWS identity (IRSA, STS AssumeRoleWithWebIdentity) signs CodeCommit's Git
// credentials, which the CodeCommit endpoint (reached under its real name, its CA given in
// spec.secretRef's ca.crt) checks against the credentials STS issued before handing the
// request to the real Git server. A refused identity, a repository the identity may not
// read and a URL that is not CodeCommit's each give a clear condition, and no credential
// appears in a condition or event.
func TestGitRepositoryAWSProvider(t *testing.T) {
	clouds := cloudapi.UseClouds(t)
	g := gitserver.New(t, gitserver.Options{})
	for _, name := range []string{"app", "denied"} {
		if _, err := g.InitRepo(name); err != nil {
			t.Fatal(err)
		}
		g.Commit(name).Branch("main").Files(map[string]string{"app.yaml": "from codecommit"}).MustDo(t)
	}
	// One region per case: the controller caches its AWS credentials per region.
	codeCommit := codecommitapi.Start(t, clouds.AWS, g, "eu-west-1")
	refusing := codecommitapi.Start(t, clouds.AWS, g, "eu-central-1")
	codeCommit.Deny("denied")

	ns := newNamespace(t)
	createSecret(t, ns, "codecommit-ca", "", map[string][]byte{"ca.crt": codeCommit.CACert()})
	createSecret(t, ns, "refusing-ca", "", map[string][]byte{"ca.crt": refusing.CACert()})
	aws := func(name, url, caSecret string) *sourcev1.GitRepository {
		return newGitRepository(ns, name, url, func(o *sourcev1.GitRepository) {
			o.Spec.Provider = sourcev1.GitProviderAWS
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
			if caSecret != "" {
				o.Spec.SecretRef = &meta.LocalObjectReference{Name: caSecret}
			}
		})
	}
	secrets := append(clouds.Secrets(), "a-token-of-another-cluster")
	noLeak := func(t *testing.T, obj *sourcev1.GitRepository) {
		t.Helper()
		wantNoSecret(t, obj, secrets...)
		for _, ev := range suiteEnv.events.Of(sourcev1.GitRepositoryKind, ns, obj.Name, "") {
			for _, s := range secrets {
				if strings.Contains(ev.Message, s) {
					t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
				}
			}
		}
	}

	t.Run("clone", func(t *testing.T) {
		obj := aws("codecommit", codeCommit.RepoURL("app"), "codecommit-ca")
		create(t, obj)
		waitReady(t, obj)
		wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "from codecommit"})
		if c := clouds.AWS.Counts(); c.STS != 1 {
			t.Errorf("STS credentials issued = %d, want 1", c.STS)
		}
		noLeak(t, obj)
	})

	t.Run("repository-not-allowed", func(t *testing.T) {
		obj := aws("denied", codeCommit.RepoURL("denied"), "codecommit-ca")
		create(t, obj)
		waitNotReady(t, obj, sourcev1.GitOperationFailedReason)
		wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.GitOperationFailedReason, codeCommit.RepoURL("denied"),
			"authorization failed", "(as the controller's AWS identity (role "+clouds.AWSOptions.RoleARN+"))")
		if obj.Status.Artifact != nil {
			t.Error("artifact stored for a repository the identity may not read")
		}
		noLeak(t, obj)
	})

	t.Run("identity-refused", func(t *testing.T) {
		// A web identity token STS does not trust (the role's trust policy names another
		// cluster's issuer): no credentials, no Git request.
		bad := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(bad, []byte("a-token-of-another-cluster"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", bad)
		obj := aws("refused", refusing.RepoURL("app"), "refusing-ca")
		create(t, obj)
		waitNotReady(t, obj, sourcev1.AuthenticationFailedReason)
		wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason,
			"provider 'aws'", "Git credentials with the controller's workload identity", "STS in eu-central-1",
			strings.TrimPrefix(clouds.AWS.URL, "http://"), "AccessDenied")
		if calls := refusing.Calls(); len(calls) != 0 {
			t.Errorf("CodeCommit was called without credentials: %v", calls)
		}
		noLeak(t, obj)
	})

	for _, tc := range []struct{ name, url string }{
		{"not-codecommit", g.RepoURL("app")},
		{"ssh-url", "ssh://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app"},
		{"other-host", "https://github.com/fleet/app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := aws(tc.name, tc.url, "")
			create(t, obj)
			waitNotReady(t, obj, sourcev1.InvalidProviderConfigurationReason)
			wantCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, sourcev1.InvalidProviderConfigurationReason,
				tc.url, "AWS CodeCommit HTTPS URL")
		})
	}
}
