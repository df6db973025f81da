package controller

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// waitTimeout bounds every wait for the controller; reconciles here take well under a second.
const waitTimeout = 20 * time.Second

// newNamespace creates a namespace for one test, deleted when it ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	if suiteEnv == nil {
		t.Skip("the suite (API server, manager) does not run while fuzzing")
	}
	return suiteEnv.env.NewNamespace(t, "src")
}

// createSecret stores a Secret of type typ (Opaque when empty) with data.
func createSecret(t *testing.T, ns, name string, typ corev1.SecretType, data map[string][]byte) {
	t.Helper()
	if typ == "" {
		typ = corev1.SecretTypeOpaque
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: typ, Data: data}
	if err := suiteEnv.env.Client.Create(context.Background(), s); err != nil {
		t.Fatalf("create secret %s/%s: %v", ns, name, err)
	}
}

// create stores obj and deletes it when the test ends, so a failing object does not keep
// being retried while later tests run.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := suiteEnv.env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	victim := obj.DeepCopyObject().(client.Object)
	t.Cleanup(func() { _ = client.IgnoreNotFound(suiteEnv.env.Client.Delete(context.Background(), victim)) })
}

// get reads obj fresh from the API server (no cache).
func get(t *testing.T, obj client.Object) {
	t.Helper()
	if err := suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("get %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

// update applies mutate to the current object and writes it, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, mutate func(T)) {
	t.Helper()
	for range 10 {
		get(t, obj)
		mutate(obj)
		err := suiteEnv.env.Client.Update(context.Background(), obj)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("update %s/%s: %v", obj.GetNamespace(), obj.GetName(), err)
		}
	}
	t.Fatalf("update %s/%s: conflicts did not stop", obj.GetNamespace(), obj.GetName())
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt, as `flux reconcile` does, and returns
// the token.
func requestReconcile[T client.Object](t *testing.T, obj T) string {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	update(t, obj, func(o T) {
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[meta.ReconcileRequestAnnotation] = token
		o.SetAnnotations(a)
	})
	return token
}

// sourceObject is what the waits need of GitRepository and OCIRepository.
type sourceObject interface {
	reconcile.Object
	GetArtifact() *meta.Artifact
}

// waitFor polls obj until cond holds, failing with the last seen conditions on timeout.
func waitFor[T sourceObject](t *testing.T, obj T, what string, cond func(T) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		err := suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if err == nil && cond(obj) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: timed out waiting for %s; get error: %v; conditions:\n%s",
				obj.GetNamespace(), obj.GetName(), what, err, describeConditions(obj))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReady waits until obj is Ready=True for its current generation.
func waitReady[T sourceObject](t *testing.T, obj T) {
	t.Helper()
	waitFor(t, obj, "Ready=True", func(o T) bool { return reconcile.IsReady(o) })
}

// waitRevision waits until obj is Ready with an artifact of revision rev.
func waitRevision[T sourceObject](t *testing.T, obj T, rev string) {
	t.Helper()
	waitFor(t, obj, "artifact revision "+rev, func(o T) bool {
		return reconcile.IsReady(o) && o.GetArtifact() != nil && o.GetArtifact().Revision == rev
	})
}

// waitNotReady waits until obj is Ready=False with reason and handled for its generation.
func waitNotReady[T sourceObject](t *testing.T, obj T, reason string) {
	t.Helper()
	waitFor(t, obj, "Ready=False reason "+reason, func(o T) bool {
		c := reconcile.GetCondition(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason && c.ObservedGeneration == o.GetGeneration()
	})
}

func describeConditions(obj interface{ GetConditions() []metav1.Condition }) string {
	var b strings.Builder
	for _, c := range obj.GetConditions() {
		fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// wantCondition fails unless obj has condition typ with status and reason (reason "" matches
// any) and a message containing every fragment.
func wantCondition(t *testing.T, obj interface{ GetConditions() []metav1.Condition }, typ string, status metav1.ConditionStatus, reason string, fragments ...string) {
	t.Helper()
	c := reconcile.GetCondition(obj, typ)
	if c == nil {
		t.Errorf("no %s condition; conditions:\n%s", typ, describeConditions(obj))
		return
	}
	if c.Status != status || (reason != "" && c.Reason != reason) {
		t.Errorf("%s = %s/%s (%q), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
	for _, f := range fragments {
		if !strings.Contains(c.Message, f) {
			t.Errorf("%s message %q does not contain %q", typ, c.Message, f)
		}
	}
}

func wantNoCondition(t *testing.T, obj interface{ GetConditions() []metav1.Condition }, typ string) {
	t.Helper()
	if c := reconcile.GetCondition(obj, typ); c != nil {
		t.Errorf("unexpected %s=%s condition (%s: %s)", typ, c.Status, c.Reason, c.Message)
	}
}

// wantNoSecret fails when any condition message of obj contains one of the secret values.
func wantNoSecret(t *testing.T, obj interface{ GetConditions() []metav1.Condition }, secrets ...string) {
	t.Helper()
	for _, c := range obj.GetConditions() {
		for _, s := range secrets {
			if s != "" && strings.Contains(c.Message, s) {
				t.Errorf("condition %s leaks a secret value: %q", c.Type, c.Message)
			}
		}
	}
}

// download GETs the artifact from the storage server and checks its digest and size against
// the status, as a consumer does.
func download(t *testing.T, a *meta.Artifact) []byte {
	t.Helper()
	if a == nil {
		t.Fatal("no artifact")
	}
	body, status, err := httpGet(a.URL)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v", a.URL, status, err)
	}
	sum := sha256.Sum256(body)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != a.Digest {
		t.Fatalf("artifact %s: served digest %s, status says %s", a.URL, got, a.Digest)
	}
	if a.Size == nil || *a.Size != int64(len(body)) {
		t.Fatalf("artifact %s: served %d bytes, status says %v", a.URL, len(body), a.Size)
	}
	return body
}

func httpGet(url string) ([]byte, int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

// tarEntry is one entry of an artifact: the content of a regular file, or the target of a
// symlink (prefixed with "-> ").
type tarEntry = string

// untar lists a .tar.gz artifact: file path -> content (symlinks as "-> target"); directories
// are left out.
func untar(t *testing.T, data []byte) map[string]tarEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("artifact is not gzipped: %v", err)
	}
	tr := tar.NewReader(gz)
	out := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read artifact tarball: %v", err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[h.Name] = string(b)
		case tar.TypeSymlink:
			out[h.Name] = "-> " + h.Linkname
		}
	}
}

// artifactFiles downloads obj's artifact and lists it.
func artifactFiles(t *testing.T, obj sourceObject) map[string]tarEntry {
	t.Helper()
	return untar(t, download(t, obj.GetArtifact()))
}

// wantFiles fails unless files holds exactly want (paths and contents).
func wantFiles(t *testing.T, files, want map[string]tarEntry) {
	t.Helper()
	if fmt.Sprint(sortedKeys(files)) != fmt.Sprint(sortedKeys(want)) {
		t.Errorf("artifact files = %v, want %v", sortedKeys(files), sortedKeys(want))
		return
	}
	for p, c := range want {
		if files[p] != c {
			t.Errorf("artifact file %s = %q, want %q", p, files[p], c)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newArtifactEvents counts the NewArtifact events received for obj.
func newArtifactEvents(kind, ns, name string) int {
	return len(suiteEnv.events.Of(kind, ns, name, sourcev1.NewArtifactReason))
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type metaRef = meta.LocalObjectReference
