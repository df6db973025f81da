package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/notification-controller/api/v1beta3"
)

const testCommit = "0123456789abcdef0123456789abcdef01234567"

func TestEventsReachProvidersWithUpstreamMetadata(t *testing.T) {
	ns := newNamespace(t)
	ks := kustomization(t, ns, "app", nil)
	sink := eventsink.New(t)
	create(t, genericProvider(ns, "hook", sink.URL))
	alert := alertFor(ns, "all", "hook", eventSource("Kustomization", "*"))
	alert.Spec.Summary = "cluster prod"
	alert.Spec.EventMetadata = map[string]string{"env": "prod", "revision": "not-the-emitters"}
	create(t, alert)
	waitRouted(t, alert, "Kustomization", ns, "app")

	// Posted by pkg/events exactly as kustomize-controller posts: group-prefixed keys.
	suiteEnv.recorder.Event(ks, eventv1.EventSeverityInfo, meta.ReconciliationSucceededReason,
		"Reconciliation finished in 1.2s, next run in 10m", map[string]string{
			"kustomize.toolkit.fluxcd.io/revision": "main@sha1:" + testCommit,
			"kustomize.toolkit.fluxcd.io/checksum": "internal",
			"source.toolkit.fluxcd.io/revision":    "another group's key",
			"event.toolkit.fluxcd.io/token":        "tok",
		})
	eventually(t, "the event at the generic provider", func() bool { return len(sink.Of("Kustomization", ns, "app", "")) > 0 })
	got := sink.Received()[0]
	want := map[string]string{"revision": "main@sha1:" + testCommit, "token": "tok", "summary": "cluster prod", "env": "prod"}
	if fmt.Sprint(got.Event.Metadata) != fmt.Sprint(want) {
		t.Errorf("metadata = %v, want %v (prefixes stripped, other groups and checksum dropped, the emitter's revision kept)", got.Event.Metadata, want)
	}
	if got.Event.ReportingController != "kustomize-controller" || got.Header.Get("Gotk-Component") != "kustomize-controller" {
		t.Errorf("reportingController %q, Gotk-Component %q", got.Event.ReportingController, got.Header.Get("Gotk-Component"))
	}
	if got.Event.InvolvedObject.APIVersion != "kustomize.toolkit.fluxcd.io/v1" || got.Event.Message != "Reconciliation finished in 1.2s, next run in 10m" {
		t.Errorf("event = %+v", got.Event)
	}
}

func TestEventIntakeAnswers(t *testing.T) {
	ns := newNamespace(t)
	sink := eventsink.New(t)
	create(t, genericProvider(ns, "hook", sink.URL))
	alert := alertFor(ns, "all", "hook", eventSource("GitRepository", "*"))
	create(t, alert)
	waitRouted(t, alert, "GitRepository", ns, "app")

	ev := eventv1.Event{
		InvolvedObject: corev1.ObjectReference{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Namespace: ns, Name: "app"},
		Severity:       eventv1.EventSeverityError, Reason: "GitOperationFailed", Message: "failed to checkout",
		Timestamp: metav1.Now(), ReportingController: "source-controller",
	}
	body, _ := json.Marshal(ev)
	post := func(b []byte) int {
		resp, err := http.Post("http://"+suiteEnv.nc.Events.Addr()+"/", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(body); code != http.StatusAccepted {
		t.Fatalf("first post: %d, want 202", code)
	}
	if code := post(body); code != http.StatusTooManyRequests {
		t.Errorf("duplicate within --rate-limit-interval: %d, want 429", code)
	}
	if code := post([]byte(`{"involvedObject":{"kind":"GitRepository"}}`)); code != http.StatusBadRequest {
		t.Errorf("invalid event: %d, want 400", code)
	}
	eventually(t, "the event at the provider", func() bool { return len(sink.Of("GitRepository", ns, "app", "")) == 1 })
}

func TestSuspendedAlertAndProviderSendNothing(t *testing.T) {
	ns := newNamespace(t)
	ks := kustomization(t, ns, "app", nil)
	active, resumed := eventsink.New(t), eventsink.New(t)
	create(t, genericProvider(ns, "active", active.URL))
	suspendedProvider := genericProvider(ns, "suspended", resumed.URL)
	suspendedProvider.Spec.Suspend = true
	create(t, suspendedProvider)
	// Both Alerts go to the same Provider queue, the suspended one first (Alerts are matched
	// in name order): had it been sent, it would arrive before the active one's.
	suspendedAlert := alertFor(ns, "a-suspended", "active", eventSource("Kustomization", "app"))
	suspendedAlert.Spec.Suspend, suspendedAlert.Spec.Summary = true, "from the suspended Alert"
	create(t, suspendedAlert)
	activeAlert := alertFor(ns, "b-active", "active", eventSource("Kustomization", "app"))
	activeAlert.Spec.Summary = "from the active Alert"
	create(t, activeAlert)
	toSuspended := alertFor(ns, "c-to-suspended-provider", "suspended", eventSource("Kustomization", "app"))
	create(t, toSuspended)
	waitRouted(t, activeAlert, "Kustomization", ns, "app")
	waitRouted(t, toSuspended, "Kustomization", ns, "app")

	suiteEnv.recorder.Event(ks, eventv1.EventSeverityError, "HealthCheckFailed", "first", nil)
	eventually(t, "the active Alert's event", func() bool { return len(active.Of("Kustomization", ns, "app", "")) > 0 })
	for _, ev := range active.Events() {
		if ev.Metadata["summary"] != "from the active Alert" {
			t.Errorf("event with summary %q delivered: a suspended Alert sent it", ev.Metadata["summary"])
		}
	}

	// Resume the Provider and send a second event through the same queue: had the first one
	// been queued while the Provider was suspended, it would arrive first.
	get(t, suspendedProvider)
	suspendedProvider.Spec.Suspend = false
	if err := suiteEnv.env.Client.Update(context.Background(), suspendedProvider); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the resumed Provider in the cache", func() bool {
		var p v1beta3.Provider
		return suiteEnv.rt.Manager.GetClient().Get(context.Background(), client.ObjectKeyFromObject(suspendedProvider), &p) == nil && !p.Spec.Suspend
	})
	suiteEnv.recorder.Event(ks, eventv1.EventSeverityError, "HealthCheckFailed", "second", nil)
	eventually(t, "the second event at the resumed Provider", func() bool { return len(resumed.Events()) > 0 })
	if got := resumed.Events(); len(got) != 1 || got[0].Message != "second" {
		t.Errorf("resumed Provider got %d events, first %q: the suspended Provider sent one", len(got), got[0].Message)
	}
}

// blockingServer accepts requests and holds each until release is closed.
type blockingServer struct {
	*httptest.Server
	release chan struct{}
	mu      sync.Mutex
	started int
	done    []string
}

func newBlockingServer(t *testing.T) *blockingServer {
	b := &blockingServer{release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev eventv1.Event
		_ = json.NewDecoder(r.Body).Decode(&ev)
		b.mu.Lock()
		b.started++
		b.mu.Unlock()
		<-b.release
		b.mu.Lock()
		b.done = append(b.done, ev.Message)
		b.mu.Unlock()
	}))
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
		b.Close()
	})
	return b
}

func (b *blockingServer) counts() (started int, done []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.started, append([]string(nil), b.done...)
}

func TestSlowProviderDoesNotBlockAnother(t *testing.T) {
	ns := newNamespace(t)
	ks := kustomization(t, ns, "app", nil)
	slow := newBlockingServer(t)
	fast := eventsink.New(t)
	slowProvider := genericProvider(ns, "slow", slow.URL)
	slowProvider.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	create(t, slowProvider)
	create(t, genericProvider(ns, "fast", fast.URL))
	slowAlert := alertFor(ns, "to-slow", "slow", eventSource("Kustomization", "app"))
	fastAlert := alertFor(ns, "to-fast", "fast", eventSource("Kustomization", "app"))
	create(t, slowAlert)
	create(t, fastAlert)
	waitRouted(t, slowAlert, "Kustomization", ns, "app")
	waitRouted(t, fastAlert, "Kustomization", ns, "app")

	const n = 5
	var want []string
	for i := range n {
		msg := fmt.Sprintf("event %d", i)
		want = append(want, msg)
		suiteEnv.recorder.Event(ks, eventv1.EventSeverityError, "HealthCheckFailed", msg, nil)
	}
	eventually(t, "every event at the fast Provider", func() bool { return len(fast.Events()) == n })
	if started, done := slow.counts(); started > 1 || len(done) > 0 {
		t.Fatalf("slow Provider: %d deliveries started, %d done while the first is held", started, len(done))
	}
	close(slow.release)
	eventually(t, "every event at the slow Provider once it answers", func() bool { _, done := slow.counts(); return len(done) == n })
	if _, done := slow.counts(); strings.Join(done, ",") != strings.Join(want, ",") {
		t.Errorf("slow Provider got %v, want %v in order", done, want)
	}
}

func TestCrossNamespaceEventSourceDenied(t *testing.T) {
	ns, other := newNamespace(t), newNamespace(t)
	sink := eventsink.New(t)
	create(t, genericProvider(ns, "hook", sink.URL))
	foreign := eventSource("Kustomization", "*")
	foreign.Namespace = other
	alert := alertFor(ns, "snoop", "hook", foreign, eventSource("Kustomization", "*"))
	create(t, alert)
	waitRouted(t, alert, "Kustomization", ns, "own")
	waitWarning(t, ns, v1beta3.AlertKind, "snoop", "cross-namespace reference to Kustomization/"+other+"/* is not allowed")
	probe := &eventv1.Event{Severity: eventv1.EventSeverityError, Message: "m", Reason: "R",
		InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Namespace: other, Name: "app"}}
	if got, _ := suiteEnv.nc.Events.config.Alerts.Match(context.Background(), probe, nil); len(got) > 0 {
		t.Errorf("an event of namespace %s matches %d Alerts of namespace %s", other, len(got), ns)
	}
}

func TestInvalidAlertsAndProvidersAreReported(t *testing.T) {
	ns := newNamespace(t)
	missingSecret := genericProvider(ns, "no-secret", "https://example.com/hook")
	missingSecret.Spec.SecretRef = &meta.LocalObjectReference{Name: "missing"}
	create(t, missingSecret)
	waitWarning(t, ns, v1beta3.ProviderKind, "no-secret", "Secret '"+ns+"/missing' of spec.secretRef not found")

	// The Secret's proxy overrides spec.proxy, whose CRD pattern already refuses other schemes.
	createSecret(t, ns, "creds", map[string]string{"token": "s3cr3t-token", "proxy": "ftp://user:hunter2@proxy.example.com"})
	badProxy := genericProvider(ns, "bad-proxy", "https://example.com/hook")
	badProxy.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
	create(t, badProxy)
	ev := waitWarning(t, ns, v1beta3.ProviderKind, "bad-proxy", "invalid proxy")
	for _, secret := range []string{"s3cr3t-token", "hunter2"} {
		if strings.Contains(ev.Message, secret) {
			t.Errorf("the warning event carries a secret: %q", ev.Message)
		}
	}

	create(t, alertFor(ns, "orphan", "nope", eventSource("Kustomization", "*")))
	waitWarning(t, ns, v1beta3.AlertKind, "orphan", "spec.providerRef: Provider '"+ns+"/nope' not found")
}
