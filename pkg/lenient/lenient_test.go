package lenient_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testenv"
	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/lenient"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{}) }

// overflow matches the CRD's duration pattern but does not fit a time.Duration.
const overflow = "9999999999999999999h"

// createObjects stores a healthy TestObject and one whose interval overflows, in a new
// namespace.
func createObjects(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("lenient-%d", time.Now().UnixNano())
	if err := env.Client.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}); err != nil {
		t.Fatal(err)
	}
	for name, interval := range map[string]string{"good": "1m", "bad": overflow} {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": testkind.GroupVersion.String(), "kind": testkind.Kind,
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     map[string]any{"interval": interval, "url": "https://example.com/" + name},
		}}
		if err := env.Client.Create(ctx, u); err != nil {
			t.Fatalf("the API server refused %s: %v", interval, err)
		}
	}
	return ns
}

func clientWith(t *testing.T, wrap bool) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	if wrap {
		cfg.Wrap(lenient.Transport(testkind.GroupVersion.Group))
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestListWithAnOverflowingDuration: without the transport, one object's overflowing
// duration fails the list of every object of the kind; with it, the list succeeds, the
// healthy object is read as stored and the broken one carries the annotation naming its
// field.
func TestListWithAnOverflowingDuration(t *testing.T) {
	ns := createObjects(t)
	ctx := context.Background()
	var list testkind.TestObjectList
	if err := clientWith(t, false).List(ctx, &list, client.InNamespace(ns)); err == nil {
		t.Fatal("the plain typed list succeeded: the test does not reproduce the failure")
	}
	if err := clientWith(t, true).List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list through the transport: %v", err)
	}
	checkRepaired(t, list.Items)

	// A single object read (and any write's response) is repaired the same way.
	var bad testkind.TestObject
	if err := clientWith(t, true).Get(ctx, client.ObjectKey{Namespace: ns, Name: "bad"}, &bad); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lenient.Problems(bad.Annotations), "spec.interval") {
		t.Errorf("annotations = %v", bad.Annotations)
	}
}

// TestWatchCacheWithAnOverflowingDuration: a controller-runtime cache (list, then watch)
// syncs and keeps serving the kind when a broken object is created after the start.
func TestWatchCacheWithAnOverflowingDuration(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(lenient.Transport(testkind.GroupVersion.Group))
	c, err := cache.New(cfg, cache.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetInformer(ctx, &testkind.TestObject{}); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	var list testkind.TestObjectList
	ns := createObjects(t) // arrives through the watch
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache holds %d of the 2 objects", len(list.Items))
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkRepaired(t, list.Items)
}

func checkRepaired(t *testing.T, items []testkind.TestObject) {
	t.Helper()
	if len(items) != 2 {
		t.Fatalf("%d objects, want 2", len(items))
	}
	for _, o := range items {
		switch o.Name {
		case "good":
			if o.Spec.Interval.Duration != time.Minute || lenient.Problems(o.Annotations) != "" {
				t.Errorf("good object changed: %+v %v", o.Spec, o.Annotations)
			}
		case "bad":
			p := lenient.Problems(o.Annotations)
			if !strings.Contains(p, "spec.interval") || !strings.Contains(p, overflow) || o.Spec.Interval != (metav1.Duration{}) {
				t.Errorf("bad object: interval %v, problems %q", o.Spec.Interval, p)
			}
		}
	}
}
