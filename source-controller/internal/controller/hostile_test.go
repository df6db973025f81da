package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOverflowingDuration: a GitRepository whose timeout matches the CRD's pattern but does
// not fit a duration stalls on its own with a condition naming the field; the GitRepository
// created after it (so the controller's cache must have read past it) gets its artifact.
func TestOverflowingDuration(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	ns := newNamespace(t)
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": sourcev1.GroupVersion.String(), "kind": sourcev1.GitRepositoryKind,
		"metadata": map[string]any{"name": "overflow", "namespace": ns},
		"spec": map[string]any{"url": url, "interval": "1m", "timeout": "9999999999999999999m",
			"ref": map[string]any{"branch": "main"}},
	}}
	if err := suiteEnv.env.Client.Create(context.Background(), bad); err != nil {
		t.Fatalf("the API server refused the overflowing timeout: %v", err)
	}
	healthy := newGitRepository(ns, "healthy", url, func(o *sourcev1.GitRepository) { o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"} })
	create(t, healthy)
	waitReady(t, healthy)
	eventually(t, "the overflowing GitRepository stalled", func() bool {
		if err := suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(bad), bad); err != nil {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(bad.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == meta.StalledCondition && m["reason"] == reconcile.InvalidSpecReason &&
				strings.Contains(fmt.Sprint(m["message"]), "spec.timeout") {
				return true
			}
		}
		return false
	})
}
