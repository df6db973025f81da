package journeys_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/alertsink"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestCentralAlerting is the central alerting journey: two standalone clusters, the shared
// one ("staging") and the locked-down production cluster, forward their events to one
// central receiver (Provider generic-hmac, HMAC-signed, testdata/platform's alerting.yaml
// in production, the same objects applied by hand in staging). A failure on either cluster
// arrives centrally with the cluster named in the event metadata (Alert eventMetadata,
// `${cluster_name}` substituted per cluster), production tenants' failures with the tenant
// named too, and nothing arrives unsigned.
func TestCentralAlerting(t *testing.T) {
	t.Parallel()
	staging, ctx := journey(t, 5*time.Minute)
	prod := production.get(t)
	alerts := centralAlerts()

	// Staging: the same alerting objects the platform repository holds, for one namespace.
	ns := "central-alerting"
	createNamespace(t, ctx, ns)
	files, err := framework.ReadTree("testdata/platform")
	if err != nil {
		t.Fatal(err)
	}
	manifest := replaceMarks(map[string]string{"a": files["infrastructure/base/alerting.yaml"]}, map[string]string{
		alertsURLMark: alerts.URL, alertsKeyMark: alerts.Key(platformSender), "${cluster_name}": "staging", "namespace: flux-system": "namespace: " + ns,
	})["a"]
	if _, err := staging.Apply(ctx, manifest); err != nil {
		t.Fatal(err)
	}
	// A Kustomization whose path is not in its source: a failure on staging.
	repo, err := staging.CreateGitRepo("central-alerting")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit(map[string]string{"app/cm.yaml": configMap(ns, "app", map[string]string{"k": "v"})}, "Add app"); err != nil {
		t.Fatal(err)
	}
	apply(t, ctx, gitRepository(ns, "app", repo.HTTPURL))
	apply(t, ctx, kustomization(ns, "broken", "GitRepository", "app", "./no-such-path"))

	// Production: its platform repository configures the alerting; team-b's attempt to
	// plant a ConfigMap in team-a's namespace is a failure on production.
	bootstrappedPlatform(t, ctx, prod)
	attack := namespaced(&kustomizev1.Kustomization{}, "team-b", "plant-in-team-a")
	waitIn(t, ctx, prod, attack, waitTime, "team-b/plant-in-team-a to exist", func() (bool, string) { return true, "" })

	for _, want := range []struct {
		what                    string
		env                     *framework.Env
		cluster, tenant, sender string
		ks                      *kustomizev1.Kustomization
	}{
		{"a failed apply on staging", staging, "staging", "", platformSender, namespaced(&kustomizev1.Kustomization{}, ns, "broken")},
		{"team-b's refused apply on production", prod, "production", "team-b", "team-b", attack},
	} {
		// Alerts have no status: notification-controller picks a new one up from its watch.
		// A failure posted before that is not forwarded, so the failing object is asked to
		// reconcile again while waiting.
		nudge := func() { _, _ = want.env.RequestReconcile(ctx, want.ks) }
		rec := waitCentral(t, ctx, alerts, want.what, nudge, func(rec alertsink.Received) bool {
			ev, o := rec.Event, rec.Event.InvolvedObject
			return o.Kind == "Kustomization" && o.Namespace == want.ks.Namespace && o.Name == want.ks.Name && ev.Severity == eventv1.EventSeverityError
		})
		ev := rec.Event
		if rec.Sender != want.sender {
			t.Errorf("%s arrived signed with %s's key, want %s's", want.what, rec.Sender, want.sender)
		}
		if ev.Metadata["cluster"] != want.cluster {
			t.Errorf("%s arrived with metadata cluster=%q, want %q (metadata %v)", want.what, ev.Metadata["cluster"], want.cluster, ev.Metadata)
		}
		if ev.Metadata["tenant"] != want.tenant {
			t.Errorf("%s arrived with metadata tenant=%q, want %q", want.what, ev.Metadata["tenant"], want.tenant)
		}
		t.Logf("%s arrived: cluster=%s %s: %s", want.what, ev.Metadata["cluster"], ev.Reason, ev.Message)
	}
	if n := alerts.Refusals(); n != 0 {
		t.Errorf("the central receiver refused %d unsigned or badly signed posts", n)
	}

	// team-b can read the alerting Secret in its own namespace; signed with that key, an
	// event that claims to be team-a's is refused.
	var secret corev1.Secret
	if err := prod.Client.Get(ctx, client.ObjectKey{Namespace: "team-b", Name: "central-alerting"}, &secret); err != nil {
		t.Fatal(err)
	}
	forged := eventv1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Namespace: "team-a", Name: "team-a"},
		Severity: eventv1.EventSeverityInfo, Reason: "ReconciliationSucceeded", Metadata: map[string]string{"cluster": "production", "tenant": "team-a"}}
	if code, err := alertsink.Post(ctx, alerts.URL, string(secret.Data["token"]), forged); err != nil || code != http.StatusForbidden {
		t.Errorf("an event signed with team-b's key claiming to be team-a's was answered %d (%v), want 403", code, err)
	}
}

// waitCentral waits until the central receiver has an event match accepts, calling nudge
// every few seconds meanwhile.
func waitCentral(t *testing.T, ctx context.Context, c *alertsink.Sink, what string, nudge func(), match func(alertsink.Received) bool) alertsink.Received {
	t.Helper()
	timeout := time.After(waitTime)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		rec, next := c.Find(match)
		if rec != nil {
			return *rec
		}
		select {
		case <-next:
		case <-tick.C:
			nudge()
		case <-timeout:
			t.Fatalf("%s never arrived at the central receiver; it has:%s", what, centralSummary(c))
		case <-ctx.Done():
			t.Fatalf("%s never arrived at the central receiver: %v; it has:%s", what, ctx.Err(), centralSummary(c))
		}
	}
}
