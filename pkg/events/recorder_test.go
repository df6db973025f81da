package events

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/testkind"
)

func TestWebhookPayload(t *testing.T) {
	rc := eventsink.New(t)
	r := newRecorder(t, rc.URL, true)
	obj := newObject(t)
	host, _ := os.Hostname()

	before := time.Now().Truncate(time.Second)
	r.Event(obj, SeverityInfo, "NewArtifact", "stored artifact for commit 'add podinfo'", map[string]string{
		"testing.gotk.dev/revision": "main@sha1:4b9a2d7c",
		"testing.gotk.dev/digest":   "sha256:01ba4719",
	})
	waitFor(t, 10*time.Second, "the event POST", func() bool { return len(rc.Received()) == 1 })
	after := time.Now().Add(time.Second)
	got := rc.Received()[0]

	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	// The exact wire format notification-controller decodes (event.toolkit.fluxcd.io/v1beta1).
	var wire map[string]any
	if err := json.Unmarshal(got.Raw, &wire); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, got.Raw)
	}
	ts, _ := wire["timestamp"].(string)
	delete(wire, "timestamp")
	want := map[string]any{
		"involvedObject": map[string]any{
			"kind":            "TestObject",
			"apiVersion":      "testing.gotk.dev/v1",
			"name":            "podinfo",
			"namespace":       obj.Namespace,
			"uid":             string(obj.UID),
			"resourceVersion": obj.ResourceVersion,
		},
		"severity": "info",
		"message":  "stored artifact for commit 'add podinfo'",
		"reason":   "NewArtifact",
		"metadata": map[string]any{
			"testing.gotk.dev/revision": "main@sha1:4b9a2d7c",
			"testing.gotk.dev/digest":   "sha256:01ba4719",
		},
		"reportingController": "source-controller",
		"reportingInstance":   host,
	}
	if !reflect.DeepEqual(wire, want) {
		t.Errorf("payload =\n%s\nwant (without timestamp)\n%v", got.Raw, want)
	}
	// What upstream notification-controller hands its providers: the revision survives its
	// metadata filter (a commit-status provider needs it).
	if md := eventsink.UpstreamMetadata(got.Event); md["revision"] != "main@sha1:4b9a2d7c" || md["digest"] != "sha256:01ba4719" {
		t.Errorf("metadata after upstream's filter = %v, want revision and digest", md)
	}
	stamp, err := time.Parse(time.RFC3339, ts)
	if err != nil || stamp.Before(before) || stamp.After(after) {
		t.Errorf("timestamp %q (%v) not an RFC 3339 time between %s and %s", ts, err, before, after)
	}
}

func TestWebhookPayloadDetails(t *testing.T) {
	rc := eventsink.New(t)
	r := newRecorder(t, rc.URL, true)
	obj := newObject(t)

	long := strings.Repeat("x", maxMessageLength+500)
	r.Event(obj, SeverityError, "BuildFailed", long, map[string]string{
		"kustomize.toolkit.fluxcd.io/other": "kept",
	})
	r.Eventf(obj, SeverityTrace, "Progressing", "fetched %d files from %s", 3, "main")
	r.Event(obj, SeverityInfo, "NoMetadata", "plain", nil)
	unicode := "x" + strings.Repeat("日", maxMessageLength/3+10) // the cut falls inside a character
	r.Event(obj, SeverityInfo, "LongUnicode", unicode, nil)
	waitFor(t, 10*time.Second, "four POSTs", func() bool { return len(rc.Received()) == 4 })

	got := rc.Received()
	if ev := got[0].Event; ev.Severity != "error" || len(ev.Message) != maxMessageLength ||
		ev.Metadata["kustomize.toolkit.fluxcd.io/other"] != "kept" {
		t.Errorf("error event: severity %s, message length %d, metadata %v", ev.Severity, len(ev.Message), ev.Metadata)
	}
	if ev := got[1].Event; ev.Severity != "trace" || ev.Message != "fetched 3 files from main" {
		t.Errorf("trace event: severity %s, message %q", ev.Severity, ev.Message)
	}
	if strings.Contains(string(got[2].Raw), `"metadata"`) {
		t.Errorf("event without annotations carries metadata: %s", got[2].Raw)
	}
	if msg := got[3].Event.Message; len(msg) > maxMessageLength || len(msg) < maxMessageLength-3 || !strings.HasPrefix(unicode, msg) {
		t.Errorf("long message cut to %d bytes, not a clean prefix of the original", len(msg))
	}
}

func TestKubernetesEvents(t *testing.T) {
	for _, tc := range []struct {
		severity string
		wantType string
	}{
		{SeverityError, corev1.EventTypeWarning},
		{SeverityInfo, corev1.EventTypeNormal},
	} {
		t.Run(tc.severity, func(t *testing.T) {
			r := newRecorder(t, "", true)
			obj := newObject(t)
			r.Event(obj, tc.severity, "ArtifactUpToDate", "artifact up-to-date with remote revision", map[string]string{
				"testing.gotk.dev/revision": "main@sha1:4b9a2d7c",
			})
			ev := waitForKubeEvent(t, obj, "ArtifactUpToDate")
			if ev.Type != tc.wantType {
				t.Errorf("type = %s, want %s", ev.Type, tc.wantType)
			}
			if ev.Message != "artifact up-to-date with remote revision" || ev.Source.Component != "source-controller" {
				t.Errorf("message %q, source %q", ev.Message, ev.Source.Component)
			}
			if ev.InvolvedObject.Kind != "TestObject" || ev.InvolvedObject.APIVersion != "testing.gotk.dev/v1" ||
				ev.InvolvedObject.Name != obj.Name {
				t.Errorf("involvedObject = %+v", ev.InvolvedObject)
			}
			if got := ev.Annotations["testing.gotk.dev/revision"]; got != "main@sha1:4b9a2d7c" {
				t.Errorf("annotations = %v, want the revision annotation as given", ev.Annotations)
			}
		})
	}
}

func TestTraceIsNotAKubernetesEvent(t *testing.T) {
	rc := eventsink.New(t)
	r := newRecorder(t, rc.URL, true)
	obj := newObject(t)
	r.Event(obj, SeverityTrace, "TraceOnly", "fine-grained progress", nil)
	r.Event(obj, SeverityInfo, "Marker", "recorded after the trace event", nil)
	// Events reach the API in order: once the marker is there, the trace event would be too.
	waitForKubeEvent(t, obj, "Marker")
	for _, ev := range kubeEvents(t, obj) {
		if ev.Reason == "TraceOnly" {
			t.Errorf("trace event recorded as a Kubernetes Event: %+v", ev)
		}
	}
	// It still goes to notification-controller.
	waitFor(t, 10*time.Second, "both POSTs", func() bool { return len(rc.Received()) == 2 })
	if got := rc.Received()[0].Event.Reason; got != "TraceOnly" {
		t.Errorf("first POST reason = %s, want TraceOnly", got)
	}
}

func TestNewRecorderRejectsBadEventsAddr(t *testing.T) {
	for _, addr := range []string{"notification-controller", "ftp://nc.flux-system/", "http://", "://x"} {
		_, err := NewRecorder(env.Config, Options{Controller: "c", EventsAddr: addr, Scheme: env.Scheme})
		if err == nil || !strings.Contains(err.Error(), "--events-addr") {
			t.Errorf("EventsAddr %q: error %v, want one naming --events-addr", addr, err)
		}
	}
}

func TestRecorderRunsOnEveryReplica(t *testing.T) {
	if newRecorder(t, "", true).NeedLeaderElection() {
		t.Error("NeedLeaderElection = true: non-leaders would not record events")
	}
}

// TestKubernetesEventsBurst: a burst of events about many objects, as 20 workers reconciling a
// thousand Kustomizations make, all reaches the API server; one sequential writer with
// client-go's bounded queue dropped about half of such a burst.
func TestKubernetesEventsBurst(t *testing.T) {
	const n = 4000
	r := newRecorder(t, "", true)
	ns := newObject(t).Namespace
	for i := range n {
		obj := &testkind.TestObject{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i), Namespace: ns, UID: types.UID(fmt.Sprint(i))}}
		r.Event(obj, SeverityInfo, "Progressing", fmt.Sprintf("Deployment/%s/app-%d configured", ns, i), nil)
	}
	// Wait until the count stops growing.
	var got, last int
	for stable := 0; stable < 3 && got < n; {
		time.Sleep(time.Second)
		var list corev1.EventList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		got = 0
		for _, ev := range list.Items {
			if ev.Reason == "Progressing" {
				got++
			}
		}
		if got == last {
			stable++
		} else {
			stable, last = 0, got
		}
	}
	if got != n {
		t.Errorf("%d of %d events reached the API server", got, n)
	}
}
