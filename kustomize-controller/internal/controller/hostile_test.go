package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOverflowingDuration: a Kustomization whose interval matches the CRD's pattern but does
// not fit a duration stalls on its own, with a condition naming the field; the Kustomizations
// beside it (created after it, so the controller's cache must have read past it) reconcile.
func TestOverflowingDuration(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("healthy", nil)})
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kustomizev1.GroupVersion.String(), "kind": kustomizev1.KustomizationKind,
		"metadata": map[string]any{"name": "overflow", "namespace": ns},
		"spec": map[string]any{
			"interval": "9999999999999999999h", "path": "./", "prune": true,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": src.GetName()},
		},
	}}
	if err := k8s().Create(testCtx(t), bad); err != nil {
		t.Fatalf("the API server refused the overflowing interval: %v", err)
	}
	newKustomization(t, ns, "healthy", src, "./")
	waitReady(t, ns, "healthy", 30*time.Second)
	eventually(t, 30*time.Second, func() error {
		if err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(bad), bad); err != nil {
			return err
		}
		return stalledOn(bad, "spec.interval")
	})
}

// stalledOn checks that an object read as unstructured is Stalled with InvalidSpec naming
// field.
func stalledOn(u *unstructured.Unstructured, field string) error {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == meta.StalledCondition && m["status"] == "True" && m["reason"] == reconcile.InvalidSpecReason &&
			strings.Contains(fmt.Sprint(m["message"]), field) {
			return nil
		}
	}
	return fmt.Errorf("%s/%s: conditions %v, want Stalled/InvalidSpec naming %s", u.GetNamespace(), u.GetName(), conds, field)
}

// TestHangingSourceServer: Kustomizations whose artifacts come from a server that never
// answers hold no worker beyond their spec.timeout (30s, the least upstream allows), so a
// healthy Kustomization created after more of them than there are workers (--concurrent=8
// in this suite) is applied within that time, not after the fetch's own minutes.
func TestHangingSourceServer(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	for i := range 12 {
		src := newSource(t, sourcev1.GitRepositoryKind, ns, fmt.Sprintf("hang-%d", i))
		sum := sha256.Sum256([]byte(src.GetName()))
		setArtifact(t, src, &meta.Artifact{
			Path: "x.tar.gz", URL: fmt.Sprintf("%s/%s.tar.gz", hang.URL, src.GetName()),
			Revision: "main@sha1:" + hex.EncodeToString(sum[:20]), Digest: "sha256:" + hex.EncodeToString(sum[:]),
			LastUpdateTime: metav1.Now(),
		})
		newKustomization(t, ns, src.GetName(), src, "./", func(ks *kustomizev1.Kustomization) {
			ks.Spec.Timeout = &metav1.Duration{Duration: 30 * time.Second}
		})
	}
	src, _ := gitRepo(t, ns, "healthy", map[string]string{"cm.yaml": cmYAML("healthy", nil)})
	start := time.Now()
	newKustomization(t, ns, "healthy", src, "./")
	waitReady(t, ns, "healthy", 50*time.Second)
	t.Logf("the healthy Kustomization waited %s behind 12 hanging ones", time.Since(start).Round(time.Millisecond))
	ks := waitReadyReason(t, ns, "hang-0", metav1.ConditionFalse, artifactFailedReason, 50*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "context deadline exceeded")
}
