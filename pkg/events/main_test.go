package events

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testenv"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// env is the API server shared by the tests of this package; set once by TestMain.
var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop testenv:", err)
	}
	os.Exit(code)
}

// newObject stores a GitRepository in a fresh namespace, so Kubernetes Events of different
// tests never mix and the recorder's per-object spam filter never kicks in.
func newObject(t *testing.T) *sourcev1.GitRepository {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "events-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
		Spec: sourcev1.GitRepositorySpec{
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
type receiver struct {
	mu       sync.Mutex
	script   []int
	requests []receivedEvent
	srv      *httptest.Server
}

type receivedEvent struct {
	status int
	raw    []byte
	event  eventv1.Event
	header http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var ev eventv1.Event
	_ = json.Unmarshal(body, &ev)
	rc.mu.Lock()
	status := http.StatusOK
	if len(rc.script) > 0 {
		status, rc.script = rc.script[0], rc.script[1:]
	}
	if req.Method != http.MethodPost {
		status = http.StatusMethodNotAllowed
	}
	rc.requests = append(rc.requests, receivedEvent{status: status, raw: body, event: ev, header: req.Header.Clone()})
	rc.mu.Unlock()
	w.WriteHeader(status)
}

func newReceiver(t *testing.T, script ...int) *receiver {
	rc := &receiver{script: script}
	rc.srv = httptest.NewServer(rc) // listens on 127.0.0.1
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []receivedEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedEvent(nil), rc.requests...)
}

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
