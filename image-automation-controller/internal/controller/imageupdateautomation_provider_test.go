package controller

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/codecommitapi"
	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/auth/gitprovider"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// seedRepo commits the podinfo manifest marked for ns's podinfo policy to an existing
// repository of r.
func seedRepo(t testing.TB, r *gitserver.Repos, name, ns string) string {
	t.Helper()
	return r.Commit(name).Branch("main").Files(map[string]string{
		"apps/podinfo.yaml": strings.Replace(deployment, "%s", ns, 1),
		"README.md":         "# fleet\n",
	}).Message("initial").MustDo(t)
}

// wantUpdated checks that main of the bare repository holds the automation's pushed commit
// with the new tag.
func wantUpdated(t testing.TB, r *gitserver.Repos, name string, a *imagev1.ImageUpdateAutomation, tag string) {
	t.Helper()
	if head, _ := r.Resolve(name, "main"); head != a.Status.LastPushCommit {
		t.Fatalf("main = %s, lastPushCommit = %s", head, a.Status.LastPushCommit)
	}
	if got := gitOut(t, r.Path(name), "show", "main:apps/podinfo.yaml"); !strings.Contains(got, "podinfo:"+tag) {
		t.Errorf("the pushed manifest does not hold %s:\n%s", tag, got)
	}
}

// wantNoLeak fails when a condition or event of the automation holds one of secrets.
func wantNoLeak(t testing.TB, a *imagev1.ImageUpdateAutomation, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, c := range a.Status.Conditions {
			if strings.Contains(c.Message, s) {
				t.Errorf("condition %s leaks a credential: %q", c.Type, c.Message)
			}
		}
		for _, ev := range suiteEnv.events.InNamespace(a.Namespace) {
			if ev.InvolvedObject.Name == a.Name && strings.Contains(ev.Message, s) {
				t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
			}
		}
	}
}

// TestAutomationGitHubApp clones and pushes as a GitHub App installation (GitRepository
// provider github): the GitHub front accepts only the installation token it issued, and the
// commit lands in the real Git server behind it. An app key GitHub refuses gives a clear
// condition naming the app and the endpoint, and nothing is pushed.
func TestAutomationGitHubApp(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := func(k *rsa.PrivateKey) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}
	g := gitserver.New(t, gitserver.Options{})
	api := githubapi.New(t, githubapi.Options{Token: "ghp_owner", Orgs: []string{"fleet"}, Git: g,
		Apps: []githubapi.App{{ID: 42, PublicKey: &key.PublicKey, Installations: []githubapi.Installation{{ID: 7, Account: "fleet"}}}}})
	ns := newNamespace(t)
	initial := map[string]string{}
	for _, repo := range []string{"fleet/app", "fleet/locked"} {
		if err := api.CreateRepository("fleet", strings.TrimPrefix(repo, "fleet/"), true); err != nil {
			t.Fatal(err)
		}
		initial[repo] = seedRepo(t, g.Repos, repo, ns)
	}
	app := func(k *rsa.PrivateKey) map[string][]byte {
		return map[string][]byte{"githubAppID": []byte("42"), "githubAppInstallationID": []byte("7"), "githubAppPrivateKey": keyPEM(k),
			"githubAppBaseURL": []byte(api.APIURL()), "ca.crt": api.CACert()}
	}
	newSecret(t, ns, "app", app(key))
	newSecret(t, ns, "wrong-key", app(wrong))
	github := func(o *sourcev1.GitRepository) { o.Spec.Provider = sourcev1.GitProviderGitHub }
	newGitRepository(t, ns, "app", api.URL()+"/fleet/app", "app", github)
	newGitRepository(t, ns, "locked", api.URL()+"/fleet/locked", "wrong-key", github)
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	a := waitFor(t, newAutomation(t, ns, "app", "app"), time.Minute, pushed(""))
	wantUpdated(t, g.Repos, "fleet/app", a, "6.5.0")
	if n := api.IssuedTokens(); n != 1 {
		t.Errorf("%d installation tokens issued, want 1 (clone and push share it)", n)
	}

	refused := waitFor(t, newAutomation(t, ns, "locked", "locked"), time.Minute,
		readyIs(metav1.ConditionFalse, gitprovider.ReasonAuthenticationFailed, "GitRepository '"+ns+"/locked': failed to get an access token for GitHub App 42 installation 7 at "+api.APIURL()))
	if head, _ := g.Resolve("fleet/locked", "main"); head != initial["fleet/locked"] {
		t.Errorf("main moved to %s although the app was refused", head)
	}
	for _, c := range api.Calls() {
		if strings.HasPrefix(c.Path, "/fleet/locked") {
			t.Errorf("Git request without credentials: %s", c)
		}
	}
	wantNoLeak(t, refused, string(keyPEM(key)), string(keyPEM(wrong)), "ghs_", "eyJ")
}

// TestAutomationAzureDevOps pushes with the controller's Azure workload identity
// (GitRepository provider azure): Entra ID issues an Azure DevOps token, which the Git server
// standing in for Azure Repos takes as a bearer token and nothing else. Without the
// ObjectLevelWorkloadIdentity gate, spec.serviceAccountName stalls.
func TestAutomationAzureDevOps(t *testing.T) {
	clouds := cloudapi.UseClouds(t)
	g := gitserver.New(t, gitserver.Options{BearerToken: clouds.EntraID.AccessToken})
	ns := newNamespace(t)
	seed(t, g.Repos, "fleet", ns)
	newGitRepository(t, ns, "fleet", g.RepoURL("fleet"), "", func(o *sourcev1.GitRepository) { o.Spec.Provider = sourcev1.GitProviderAzure })
	newGitRepository(t, ns, "as-tenant", g.RepoURL("fleet"), "", func(o *sourcev1.GitRepository) {
		o.Spec.Provider, o.Spec.ServiceAccountName = sourcev1.GitProviderAzure, "tenant"
	})
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	a := waitFor(t, newAutomation(t, ns, "fleet", "fleet"), time.Minute, pushed(""))
	wantUpdated(t, g.Repos, "fleet", a, "6.5.0")
	wantNoLeak(t, a, clouds.Secrets()...)

	gated := waitFor(t, newAutomation(t, ns, "as-tenant", "as-tenant"), time.Minute,
		readyIs(metav1.ConditionFalse, meta.FeatureGateDisabledReason, "GitRepository '"+ns+"/as-tenant'"))
	if !strings.Contains(conditionMessage(gated, meta.StalledCondition), "ObjectLevelWorkloadIdentity") {
		t.Errorf("stalled condition does not name the gate: %+v", gated.Status.Conditions)
	}
}

// TestAutomationAzureDevOpsObjectLevel drives a reconciler with the ObjectLevelWorkloadIdentity
// gate: the GitRepository's service account's token (TokenRequest), verified by Entra ID with
// a real TokenReview, is the federated credential of the one client that trusts it. Another
// service account naming the same client is refused with a condition naming it, and does
// not push.
func TestAutomationAzureDevOpsObjectLevel(t *testing.T) {
	ns := newNamespace(t)
	const client = "client-team-b"
	verify := cloudapi.TokenReviewer(testCtx(t), k8s())
	clouds := cloudapi.UseCloudsWith(t, func(c *cloudapi.Clouds) {
		c.EntraIDOptions.Verify = verify
		c.EntraIDOptions.FederatedSubjects = map[string]string{client: "system:serviceaccount:" + ns + ":team-b"}
	})
	g := gitserver.New(t, gitserver.Options{BearerToken: clouds.EntraID.AccessToken})
	for _, name := range []string{"team-b", "intruder"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{cloud.AnnotationAzureClientID: client, cloud.AnnotationAzureTenantID: clouds.EntraIDOptions.TenantID}}}
		if err := k8s().Create(testCtx(t), sa); err != nil {
			t.Fatal(err)
		}
		seed(t, g.Repos, name, ns)
		newGitRepository(t, ns, name, g.RepoURL(name), "", func(o *sourcev1.GitRepository) {
			o.Spec.Provider, o.Spec.ServiceAccountName = sourcev1.GitProviderAzure, name
		})
		newAutomation(t, ns, name, name, func(a *imagev1.ImageUpdateAutomation) { a.Labels = map[string]string{directLabel: "true"} })
	}
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)
	tokens := auth.NewTokenCache(auth.CacheOptions{MaxSize: 10, MaxDuration: time.Hour})
	r, err := NewImageUpdateAutomationReconciler(suiteEnv.rt, Config{Client: k8s(), WorkDir: t.TempDir(),
		Providers: &gitprovider.Resolver{Tokens: tokens, Logins: &cloud.Logins{Cache: tokens, HTTPClient: cloudapi.HTTPClient(),
			AzureDisableInstanceDiscovery: true, ObjectLevel: true, Kube: k8s()}}})
	if err != nil {
		t.Fatal(err)
	}
	reconcileAs := func(name string) *imagev1.ImageUpdateAutomation {
		t.Helper()
		for range 2 { // the outcome, failures included, is read from the status
			_, _ = r.Reconcile(testCtx(t), ctrl.Request{NamespacedName: objKey(ns, name)})
		}
		a := &imagev1.ImageUpdateAutomation{}
		if err := k8s().Get(testCtx(t), objKey(ns, name), a); err != nil {
			t.Fatal(err)
		}
		return a
	}

	a := reconcileAs("team-b")
	if err := readyIs(metav1.ConditionTrue, meta.SucceededReason, "")(a); err != nil || a.Status.LastPushCommit == "" {
		t.Fatalf("no push as team-b (%v): %+v", err, a.Status)
	}
	wantUpdated(t, g.Repos, "team-b", a, "6.5.0")

	before, _ := g.Resolve("intruder", "main")
	intruder := reconcileAs("intruder")
	if err := readyIs(metav1.ConditionFalse, gitprovider.ReasonAuthenticationFailed, "GitRepository '"+ns+"/intruder': provider 'azure': failed to get an Azure DevOps token with service account '"+ns+"/intruder'")(intruder); err != nil {
		t.Fatal(err)
	}
	if msg := conditionMessage(intruder, meta.ReadyCondition); !strings.Contains(msg, "service account '"+ns+"/intruder'") || !strings.Contains(msg, "Microsoft Entra ID") {
		t.Errorf("the refusal does not name the identity and the endpoint: %q", msg)
	}
	if after, _ := g.Resolve("intruder", "main"); after != before {
		t.Errorf("the intruder pushed %s", after)
	}
	if c := clouds.EntraID.Counts(); c.EntraID != 1 {
		t.Errorf("Entra ID tokens = %d, want 1 (team-b's only; never the controller's)", c.EntraID)
	}
	wantNoLeak(t, intruder, clouds.Secrets()...)
}

// TestAutomationCodeCommit pushes to AWS CodeCommit with the controller's AWS identity
// (GitRepository provider aws): the CodeCommit endpoint checks the SigV4 Git password against
// the credentials STS issued, then hands clone and push to the real Git server. A repository
// the identity may read but not push to fails naming the identity, and nothing lands.
func TestAutomationCodeCommit(t *testing.T) {
	clouds := cloudapi.UseClouds(t)
	g := gitserver.New(t, gitserver.Options{})
	ns := newNamespace(t)
	cc := codecommitapi.Start(t, clouds.AWS, g, "us-west-2")
	cc.DenyPush("read-only")
	newSecret(t, ns, "codecommit-ca", map[string][]byte{"ca.crt": cc.CACert()})
	initial := map[string]string{}
	for _, name := range []string{"fleet", "read-only"} {
		initial[name] = seed(t, g.Repos, name, ns)
		newGitRepository(t, ns, name, cc.RepoURL(name), "codecommit-ca", func(o *sourcev1.GitRepository) { o.Spec.Provider = sourcev1.GitProviderAWS })
	}
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	a := waitFor(t, newAutomation(t, ns, "fleet", "fleet"), time.Minute, pushed(""))
	wantUpdated(t, g.Repos, "fleet", a, "6.5.0")
	if cc.Pushes() != 1 {
		t.Errorf("%d pushes through the CodeCommit endpoint, want 1", cc.Pushes())
	}
	wantNoLeak(t, a, clouds.Secrets()...)

	ro := waitFor(t, newAutomation(t, ns, "read-only", "read-only"), time.Minute, readyIs(metav1.ConditionFalse, imagev1.GitOperationFailedReason, ""))
	if msg := conditionMessage(ro, meta.ReadyCondition); !strings.Contains(msg, "(as the controller's AWS identity (role "+clouds.AWSOptions.RoleARN+"))") {
		t.Errorf("the refused push does not name the identity: %q", msg)
	}
	if head, _ := g.Resolve("read-only", "main"); head != initial["read-only"] {
		t.Errorf("main moved to %s although the push was refused", head)
	}
	wantNoLeak(t, ro, clouds.Secrets()...)
}
