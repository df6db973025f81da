package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/notification-controller/api/v1beta3"
)

// waitTimeout bounds every wait for the controller; its reactions take well under a second.
const waitTimeout = 20 * time.Second

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	if suiteEnv == nil {
		t.Skip("the suite (API server, manager) does not run while fuzzing")
	}
	return suiteEnv.env.NewNamespace(t, "nc")
}

// create stores obj and deletes it when the test ends.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := suiteEnv.env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	victim := obj.DeepCopyObject().(client.Object)
	t.Cleanup(func() { _ = client.IgnoreNotFound(suiteEnv.env.Client.Delete(context.Background(), victim)) })
}

// createSecret stores an Opaque Secret with string data.
func createSecret(t *testing.T, ns, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	create(t, s)
	return s
}

// get reads obj fresh from the API server.
func get(t *testing.T, obj client.Object) {
	t.Helper()
	if err := suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("get %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

// eventually polls cond until it holds or waitTimeout passes; what describes the awaited
// state in the failure.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// conditionOf returns the condition typ of obj's status (nil when absent).
func conditionOf(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// gitRepository is a GitRepository (unstructured: the tests need no source-controller types)
// with labels, created in ns.
func gitRepository(t *testing.T, ns, name string, labels map[string]string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "GitRepository",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec":       map[string]any{"url": "https://example.com/repo.git", "interval": "10m"},
	}}
	u.SetLabels(labels)
	create(t, u)
	return u
}

// kustomization is a Kustomization (unstructured) created in ns, the involved object of the
// events the tests post.
func kustomization(t *testing.T, ns, name string, labels map[string]string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec": map[string]any{"interval": "10m", "prune": true,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": "app"}},
	}}
	u.SetLabels(labels)
	create(t, u)
	return u
}

// requestedAt is obj's reconcile.fluxcd.io/requestedAt annotation, read fresh.
func requestedAt(t *testing.T, obj *unstructured.Unstructured) string {
	t.Helper()
	u := obj.DeepCopy()
	get(t, u)
	return u.GetAnnotations()[meta.ReconcileRequestAnnotation]
}

// warningEvents are the Kubernetes warning events recorded about kind ns/name.
func warningEvents(t *testing.T, ns, kind, name string) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	if err := suiteEnv.env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.Type == corev1.EventTypeWarning && e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// waitWarning waits for a warning event about kind ns/name whose message contains want.
func waitWarning(t *testing.T, ns, kind, name, want string) corev1.Event {
	t.Helper()
	var found corev1.Event
	eventually(t, "a warning event on "+kind+" "+ns+"/"+name+" containing "+want, func() bool {
		for _, e := range warningEvents(t, ns, kind, name) {
			if strings.Contains(e.Message, want) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// waitRouted waits until the event server's state routes events of kind ns/name to alert
// through its Provider: the Alert is in the index and the Provider in the cache. Tests post
// only then; an event matched before is routed by what the controller knew then.
func waitRouted(t *testing.T, alert *v1beta3.Alert, kind, ns, name string) {
	t.Helper()
	probe := &eventv1.Event{Severity: eventv1.EventSeverityError, Message: "probe", Reason: "Probe",
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name}}
	eventually(t, "Alert "+alert.Namespace+"/"+alert.Name+" in the index", func() bool {
		got, _ := suiteEnv.nc.Events.config.Alerts.Match(context.Background(), probe, suiteEnv.nc.Events.labelsOf)
		for _, a := range got {
			if a.Namespace == alert.Namespace && a.Name == alert.Name {
				return true
			}
		}
		return false
	})
	eventually(t, "Provider "+alert.Spec.ProviderRef.Name+" in the cache", func() bool {
		var p v1beta3.Provider
		return suiteEnv.rt.Manager.GetClient().Get(context.Background(),
			client.ObjectKey{Namespace: alert.Namespace, Name: alert.Spec.ProviderRef.Name}, &p) == nil
	})
}

// alertFor is an Alert in ns sending the events of sources to provider.
func alertFor(ns, name, provider string, sources ...v1beta3.CrossNamespaceObjectReference) *v1beta3.Alert {
	return &v1beta3.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: provider}, EventSources: sources},
	}
}

// eventSource is an Alert event source.
func eventSource(kind, name string) v1beta3.CrossNamespaceObjectReference {
	return v1beta3.CrossNamespaceObjectReference{Kind: kind, Name: name}
}

// genericProvider is a generic Provider posting to url.
func genericProvider(ns, name, url string) *v1beta3.Provider {
	return &v1beta3.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta3.ProviderSpec{Type: v1beta3.GenericProvider, Address: url},
	}
}
