package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// k8s is the tests' own client (admin, not counted, no cache).
func k8s() client.Client { return suiteEnv.env.Client }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newNamespace creates a namespace of its own for a test.
func newNamespace(t testing.TB) string {
	t.Helper()
	return suiteEnv.env.NewNamespace(t, "ks")
}

// ksOpt changes a Kustomization before it is created.
type ksOpt func(*kustomizev1.Kustomization)

// newKustomization creates a Kustomization of src's artifact at path, applying to ns
// (targetNamespace), with a long interval so that only watches, retries and requests
// drive it, and a short retryInterval.
func newKustomization(t testing.TB, ns, name string, src sourceObject, path string, opts ...ksOpt) *kustomizev1.Kustomization {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			Interval:        metav1.Duration{Duration: time.Hour},
			RetryInterval:   &metav1.Duration{Duration: 2 * time.Second},
			Path:            path,
			Prune:           true,
			TargetNamespace: ns,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{
				Kind: sourceKind(src), Name: src.GetName(), Namespace: src.GetNamespace(),
			},
		},
	}
	if src.GetNamespace() == ns {
		ks.Spec.SourceRef.Namespace = ""
	}
	for _, o := range opts {
		o(ks)
	}
	if err := k8s().Create(testCtx(t), ks); err != nil {
		t.Fatal(err)
	}
	return ks
}

// getKS reads the Kustomization from the API server.
func getKS(t testing.TB, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	var ks kustomizev1.Kustomization
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &ks); err != nil {
		t.Fatal(err)
	}
	return &ks
}

// tryGetKS reads the Kustomization from the API server.
func tryGetKS(t testing.TB, ns, name string) (*kustomizev1.Kustomization, error) {
	t.Helper()
	var ks kustomizev1.Kustomization
	err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &ks)
	return &ks, err
}

// eventually polls cond every 100ms until it returns nil or timeout passes, then fails with
// its last error.
func eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// condition returns the condition of type ct, or nil.
func condition(ks *kustomizev1.Kustomization, ct string) *metav1.Condition {
	return apimeta.FindStatusCondition(ks.Status.Conditions, ct)
}

// waitReady waits until the Kustomization is Ready=True for its current generation and
// returns it.
func waitReady(t testing.TB, ns, name string, timeout time.Duration) *kustomizev1.Kustomization {
	t.Helper()
	var ks *kustomizev1.Kustomization
	eventually(t, timeout, func() error {
		var err error
		if ks, err = tryGetKS(t, ns, name); err != nil {
			return err
		}
		c := condition(ks, meta.ReadyCondition)
		if c == nil || c.Status != metav1.ConditionTrue || ks.Status.ObservedGeneration != ks.Generation {
			return fmt.Errorf("%s/%s not ready: %s", ns, name, describe(ks))
		}
		return nil
	})
	return ks
}

// waitCondition waits until the Kustomization's Ready condition has status and reason and
// returns it.
func waitReadyReason(t testing.TB, ns, name string, status metav1.ConditionStatus, reason string, timeout time.Duration) *kustomizev1.Kustomization {
	t.Helper()
	var ks *kustomizev1.Kustomization
	eventually(t, timeout, func() error {
		var err error
		if ks, err = tryGetKS(t, ns, name); err != nil {
			return err
		}
		c := condition(ks, meta.ReadyCondition)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s/%s: want Ready=%s/%s, have %s", ns, name, status, reason, describe(ks))
		}
		return nil
	})
	return ks
}

// describe summarizes a Kustomization's conditions for failure messages.
func describe(ks *kustomizev1.Kustomization) string {
	var b strings.Builder
	fmt.Fprintf(&b, "generation %d observed %d;", ks.Generation, ks.Status.ObservedGeneration)
	for _, c := range ks.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s (%s: %s);", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt as `flux reconcile` does and returns
// the token.
func requestReconcile(t testing.TB, ns, name string) string {
	t.Helper()
	ks := getKS(t, ns, name)
	base := ks.DeepCopy()
	token := time.Now().Format(time.RFC3339Nano)
	if ks.Annotations == nil {
		ks.Annotations = map[string]string{}
	}
	ks.Annotations[meta.ReconcileRequestAnnotation] = token
	if err := k8s().Patch(testCtx(t), ks, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	return token
}

// waitHandled waits until the controller has handled the reconcile request token and
// returns the Kustomization.
func waitHandled(t testing.TB, ns, name, token string, timeout time.Duration) *kustomizev1.Kustomization {
	t.Helper()
	var ks *kustomizev1.Kustomization
	eventually(t, timeout, func() error {
		var err error
		if ks, err = tryGetKS(t, ns, name); err != nil {
			return err
		}
		if ks.Status.LastHandledReconcileAt != token {
			return fmt.Errorf("request %s not handled yet: %s", token, describe(ks))
		}
		return nil
	})
	return ks
}

// updateKS changes the spec of a Kustomization (retrying on conflicts).
func updateKS(t testing.TB, ns, name string, mutate func(*kustomizev1.Kustomization)) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		ks := getKS(t, ns, name)
		mutate(ks)
		return k8s().Update(testCtx(t), ks)
	})
}

// getObj reads an object by apiVersion/kind; nil when it does not exist.
func getObj(t testing.TB, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.FromAPIVersionAndKind(apiVersion, kind))
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return u
}

// getCM reads a ConfigMap; nil when it does not exist.
func getCM(t testing.TB, ns, name string) *corev1.ConfigMap {
	t.Helper()
	var cm corev1.ConfigMap
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return &cm
}

// inventoryIDs lists the ids of a Kustomization's inventory.
func inventoryIDs(ks *kustomizev1.Kustomization) []string {
	if ks.Status.Inventory == nil {
		return nil
	}
	out := make([]string, 0, len(ks.Status.Inventory.Entries))
	for _, e := range ks.Status.Inventory.Entries {
		out = append(out, e.ID)
	}
	return out
}

// cmYAML renders a ConfigMap manifest with the given data and metadata lines (already
// indented YAML under metadata, may be empty).
func cmYAML(name string, data map[string]string, metaLines ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n")
	for _, l := range metaLines {
		b.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			b.WriteByte('\n')
		}
	}
	if len(data) > 0 {
		b.WriteString("data:\n")
		for _, k := range slices.Sorted(maps.Keys(data)) {
			fmt.Fprintf(&b, "  %s: %q\n", k, data[k])
		}
	}
	return b.String()
}

// kustomizationYAML lists resources in a kustomization.yaml.
func kustomizationYAML(resources ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		b.WriteString("- " + r + "\n")
	}
	return b.String()
}

// assertContains fails unless s contains every one of subs.
func assertContains(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q, want it to contain %q", what, s, sub)
		}
	}
}
