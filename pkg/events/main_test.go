package events

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testenv"
	"gotk.dev/internal/testing/testkind"
)

// env is the API server shared by the tests of this package; set once by TestMain.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{}) }

// newObject stores a TestObject in a fresh namespace, so Kubernetes Events of different
// tests never mix and the recorder's per-object spam filter never kicks in.
func newObject(t *testing.T) *testkind.TestObject {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "events-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	obj := &testkind.TestObject{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
		Spec: testkind.TestObjectSpec{
			URL:      "https://git.example.com/podinfo",
			Interval: metav1.Duration{Duration: time.Minute},
		},
	}
	if err := env.Client.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// newRecorder creates a recorder for addr; start runs Start until the test ends.
func newRecorder(t *testing.T, addr string, start bool) *Recorder {
	t.Helper()
	r, err := NewRecorder(env.Config, Options{Controller: "source-controller", EventsAddr: addr, Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if start {
		startRecorder(t, r)
	}
	return r
}

func startRecorder(t *testing.T, r *Recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// receiver is a notification-controller stand-in: it answers each POST with the next status
// of its script (200 once the script is used up) and keeps what it received.
// waitFor polls until cond holds or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kubeEvents lists the Kubernetes Events about obj.
func kubeEvents(t *testing.T, obj client.Object) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(obj.GetNamespace())); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, ev := range list.Items {
		if ev.InvolvedObject.UID == obj.GetUID() {
			out = append(out, ev)
		}
	}
	return out
}

// waitForKubeEvent waits for a Kubernetes Event about obj with reason.
func waitForKubeEvent(t *testing.T, obj client.Object, reason string) corev1.Event {
	t.Helper()
	var found corev1.Event
	waitFor(t, 15*time.Second, "Kubernetes Event "+reason, func() bool {
		for _, ev := range kubeEvents(t, obj) {
			if ev.Reason == reason {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}
