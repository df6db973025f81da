package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/pkg/kube"
)

// ReadSync reads the sync objects of the install in namespace back into a Sync (what an
// import of an existing bootstrap starts from). Both objects must exist.
func ReadSync(ctx context.Context, k *kube.Client, namespace string) (Sync, error) {
	key := client.ObjectKey{Namespace: namespace, Name: namespace}
	repo, ks := gitRepositoryObject.empty(), kustomizationObject.empty()
	for _, u := range []*unstructured.Unstructured{repo, ks} {
		if err := k.Client.Get(ctx, key, u); err != nil {
			return Sync{}, fmt.Errorf("get %s %s (written by bootstrap): %w", u.GetKind(), key, err)
		}
	}
	s := Sync{Namespace: namespace}
	s.URL, _, _ = unstructured.NestedString(repo.Object, "spec", "url")
	s.Branch, _, _ = unstructured.NestedString(repo.Object, "spec", "ref", "branch")
	s.Secret, _, _ = unstructured.NestedString(repo.Object, "spec", "secretRef", "name")
	s.RecurseSubmodules, _, _ = unstructured.NestedBool(repo.Object, "spec", "recurseSubmodules")
	if interval, _, _ := unstructured.NestedString(repo.Object, "spec", "interval"); interval != "" {
		d, err := time.ParseDuration(interval)
		if err != nil {
			return Sync{}, fmt.Errorf("GitRepository %s: spec.interval %q: %w", key, interval, err)
		}
		s.Interval = d
	}
	p, _, _ := unstructured.NestedString(ks.Object, "spec", "path")
	clean, err := CleanPath(strings.TrimPrefix(p, "./"))
	if err != nil {
		return Sync{}, fmt.Errorf("Kustomization %s: spec.path: %w", key, err)
	}
	s.Path = clean
	return s, nil
}
