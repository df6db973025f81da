package events

import (
	"strings"
	"testing"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"gotk.dev/internal/testing/testkind"
)

// FuzzPayload builds event payloads from arbitrary messages and annotations: the message is
// valid UTF-8 (when the input is) and within notification-controller's limit, and the
// metadata keeps every annotation as given.
func FuzzPayload(f *testing.F) {
	f.Add("stored artifact", "testing.gotk.dev/revision", "main@sha1:abc")
	f.Add("clone https://user:s3cret@git.example.com/x failed", "k", "v")
	f.Add(strings.Repeat("ü", maxMessageLength), "", "")
	scheme := runtime.NewScheme()
	if err := testkind.AddToScheme(scheme); err != nil {
		f.Fatal(err)
	}
	r := &Recorder{controller: "fuzz", scheme: scheme}
	obj := &testkind.TestObject{ObjectMeta: metav1.ObjectMeta{Name: "o", Namespace: "ns"}}
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		ev, err := r.payload(obj, SeverityInfo, "Reason", msg, map[string]string{key: value})
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Message) > maxMessageLength || (utf8.ValidString(msg) && !utf8.ValidString(ev.Message)) {
			t.Fatalf("message of %d bytes, valid UTF-8 %t", len(ev.Message), utf8.ValidString(ev.Message))
		}
		if ev.Metadata[key] != value {
			t.Errorf("metadata %v lost %q=%q", ev.Metadata, key, value)
		}
	})
}
