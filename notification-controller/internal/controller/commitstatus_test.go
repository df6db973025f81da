package controller

import (
	"strings"
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/notification-controller/api/v1beta3"
)

// TestCommitStatusFromSuccessEvents posts what kustomize-controller posts after a successful
// apply - "Reconciliation finished", flagged `commit_status: update` - and a later failure,
// and checks that a GitHub(-API-compatible) server gets success then failure on the commit,
// while a chat-like Provider on the same object gets the failure alone.
func TestCommitStatusFromSuccessEvents(t *testing.T) {
	ns := newNamespace(t)
	ks := kustomization(t, ns, "app", nil)
	git := gitserver.New(t, gitserver.Options{})
	api := githubapi.New(t, githubapi.Options{Token: "ghp_status", Git: git})
	if err := api.CreateRepository(githubapi.DefaultLogin, "fleet", false); err != nil {
		t.Fatal(err)
	}
	sha := git.Commit(githubapi.DefaultLogin+"/fleet").Branch("main").File("a.yaml", "a: 1\n").MustDo(t)

	createSecret(t, ns, "github-token", map[string]string{"token": "ghp_status"})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github-ca"},
		Data: map[string][]byte{"ca.crt": api.CACert()}})
	github := &v1beta3.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github"},
		Spec: v1beta3.ProviderSpec{Type: v1beta3.GitHubProvider, Address: api.URL() + "/" + githubapi.DefaultLogin + "/fleet",
			SecretRef: &meta.LocalObjectReference{Name: "github-token"}, CertSecretRef: &meta.LocalObjectReference{Name: "github-ca"}},
	}
	create(t, github)
	chat := eventsink.New(t)
	create(t, genericProvider(ns, "chat", chat.URL))
	toGitHub := alertFor(ns, "status", "github", eventSource("Kustomization", "app"))
	toChat := alertFor(ns, "chat", "chat", eventSource("Kustomization", "app"))
	create(t, toGitHub)
	create(t, toChat)
	waitRouted(t, toGitHub, "Kustomization", ns, "app")
	waitRouted(t, toChat, "Kustomization", ns, "app")
	get(t, github)

	revision := "main@sha1:" + sha
	suiteEnv.recorder.Event(ks, eventv1.EventSeverityInfo, meta.ReconciliationSucceededReason,
		"Reconciliation finished in 812ms, next run in 10m", map[string]string{
			"kustomize.toolkit.fluxcd.io/revision":      revision,
			"kustomize.toolkit.fluxcd.io/commit_status": "update",
		})
	wantContext := "kustomization/app/" + strings.Split(string(github.UID), "-")[0]
	eventually(t, "the success commit status", func() bool {
		st := api.Statuses(githubapi.DefaultLogin, "fleet", sha)
		return len(st) == 1 && st[0].State == "success" && st[0].Context == wantContext
	})

	suiteEnv.recorder.Event(ks, eventv1.EventSeverityError, "HealthCheckFailed",
		"health check failed after 30s", map[string]string{"kustomize.toolkit.fluxcd.io/revision": revision})
	eventually(t, "the failure commit status", func() bool {
		st := api.Statuses(githubapi.DefaultLogin, "fleet", sha)
		return len(st) == 2 && st[0].State == "failure" && st[0].Context == wantContext
	})
	eventually(t, "the failure at the chat Provider", func() bool { return len(chat.Of("Kustomization", ns, "app", "HealthCheckFailed")) == 1 })
	// Both events were routed by the same worker in order: the success was decided first.
	if got := chat.Of("Kustomization", ns, "app", meta.ReconciliationSucceededReason); len(got) != 0 {
		t.Errorf("a commit_status update event reached a non-Git Provider: %+v", got)
	}
}
