package journeys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/githubapi"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

const (
	webhookNS      = "webhook"
	webhookGHToken = "ghp_webhookjourney"
)

// TestWebhookPushToCommitStatus is the push-to-deploy journey: the repository lives on a
// GitHub-API-compatible server (in front of the Env's Git server), the GitRepository and
// Kustomization poll only hourly, and a generic-hmac Receiver is the only way a push reaches
// the cluster. A commit is pushed, the test signs the webhook the Git host would send, the
// Kustomization applies the commit, and notification-controller sets the commit's GitHub
// status to success through a github Provider (custom CA, token Secret) and an Alert.
func TestWebhookPushToCommitStatus(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 3*time.Minute)
	nc, err := env.Controller("notification-controller")
	if err != nil {
		t.Fatal(err)
	}
	api := githubapi.New(t, githubapi.Options{Token: webhookGHToken, Git: env.Git})
	if err := api.CreateRepository(githubapi.DefaultLogin, "webhook", false); err != nil {
		t.Fatal(err)
	}
	// The same bare repository, cloned by the GitRepository from the Env's Git server.
	app, err := env.NewWebhookApp(ctx, webhookNS, "webhook", githubapi.DefaultLogin+"/webhook")
	if err != nil {
		t.Fatal(err)
	}

	github := fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata: {name: github-token, namespace: %[1]s}
stringData: {token: %[2]s}
---
apiVersion: v1
kind: Secret
metadata: {name: github-ca, namespace: %[1]s}
stringData: {ca.crt: %[3]q}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: github, namespace: %[1]s}
spec: {type: github, address: %[4]q, secretRef: {name: github-token}, certSecretRef: {name: github-ca}}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: github, namespace: %[1]s}
spec: {providerRef: {name: github}, eventSources: [{kind: Kustomization, name: webhook}]}
`, webhookNS, webhookGHToken, api.CACert(), api.URL()+"/"+githubapi.DefaultLogin+"/webhook")
	if _, err := env.Apply(ctx, github); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: webhookNS, Name: "webhook"}}
	mustGet(t, ctx, ks)
	waitCommitStatusRouting(t, ctx, nc, api, ks)

	pushed := time.Now()
	sha, err := app.Push("1")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Hook(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.WaitApplied(ctx, "1", time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("push to applied through the webhook: %s", time.Since(pushed).Round(time.Millisecond))
	waitCommitStatus(t, ctx, api, sha, "success")

	// A forged webhook (signed with another key) is refused and applies nothing.
	if _, err := app.Push("2"); err != nil {
		t.Fatal(err)
	}
	forged := *app
	forged.Token = "not-the-token"
	if err := forged.Hook(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("forged webhook: %v, want 401", err)
	}
	if err := app.WaitApplied(ctx, "2", 3*time.Second); err == nil {
		t.Fatal("version 2 was applied after a forged webhook")
	}
}

// waitCommitStatusRouting posts, to notification-controller's event endpoint, the event
// kustomize-controller sends after applying the Kustomization's current revision, until the
// commit carries a status: from then on the Alert and Provider are in effect. (They are
// static objects without status to wait on, and the revision already applied produced no
// event while they did not exist.)
func waitCommitStatusRouting(t *testing.T, ctx context.Context, nc *framework.Process, api *githubapi.Server, ks *kustomizev1.Kustomization) {
	t.Helper()
	rev := ks.Status.LastAppliedRevision
	sha := rev[strings.LastIndex(rev, ":")+1:]
	err := framework.Poll(ctx, time.Minute, "the github Provider to set a status on "+sha, func(ctx context.Context) (bool, error, error) {
		if st := api.Statuses(githubapi.DefaultLogin, "webhook", sha); len(st) > 0 {
			return true, nil, nil
		}
		ev := eventv1.Event{
			InvolvedObject: corev1.ObjectReference{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind,
				Namespace: ks.Namespace, Name: ks.Name, UID: ks.UID},
			Severity: eventv1.EventSeverityInfo, Timestamp: metav1.Now(), Reason: "ReconciliationSucceeded",
			// Each probe is a new message: an identical event would be answered 429.
			Message:             "Reconciliation finished in 1s, next run in 1h (probe " + time.Now().Format(time.RFC3339Nano) + ")",
			Metadata:            map[string]string{kustomizev1.GroupVersion.Group + "/revision": rev},
			ReportingController: "kustomize-controller",
		}
		body, _ := json.Marshal(ev)
		resp, err := http.Post("http://"+nc.EventsAddr+"/", "application/json", bytes.NewReader(body))
		if err != nil {
			return false, err, nil
		}
		resp.Body.Close()
		return false, fmt.Errorf("no status yet (event answered %s)", resp.Status), nil
	})
	if err != nil {
		t.Fatalf("%v\nlast lines of %s:\n%s", err, nc.Logs, nc.LogTail(25))
	}
}

// waitCommitStatus waits until the newest status of sha's Kustomization context has state.
func waitCommitStatus(t *testing.T, ctx context.Context, api *githubapi.Server, sha, state string) {
	t.Helper()
	err := framework.Poll(ctx, 30*time.Second, "commit status "+state+" on "+sha, func(context.Context) (bool, error, error) {
		st := api.Statuses(githubapi.DefaultLogin, "webhook", sha)
		if len(st) == 0 {
			return false, fmt.Errorf("no status"), nil
		}
		if !strings.HasPrefix(st[0].Context, "kustomization/webhook/") || st[0].State != state {
			return false, fmt.Errorf("newest status %+v", st[0]), nil
		}
		return true, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
