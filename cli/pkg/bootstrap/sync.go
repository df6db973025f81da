package bootstrap

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// reconcileSync writes gotk-sync.yaml and the directory's kustomization.yaml, commits and
// pushes them when they changed, and applies the sync objects as the kustomization builds
// them (so user patches to them hold from the start).
func (b *Bootstrapper) reconcileSync(ctx context.Context, dir string) error {
	b.Log.Actionf("generating sync manifests")
	syncYAML, err := b.Sync().YAML()
	if err != nil {
		return err
	}
	if err := writeFile(dir, b.file(SyncFile), syncYAML); err != nil {
		return err
	}
	existing, err := readFile(dir, b.file(KustomizationFile))
	if err != nil {
		return err
	}
	k, err := Kustomization(existing, []string{ComponentsFile, SyncFile})
	if err != nil {
		return fmt.Errorf("%s: %w", b.file(KustomizationFile), err)
	}
	if err := writeFile(dir, b.file(KustomizationFile), k); err != nil {
		return err
	}
	built, err := b.buildFluxDir(dir)
	if err != nil {
		return err
	}
	var syncObjs []*unstructured.Unstructured
	for _, u := range built {
		if IsSyncObject(u) {
			syncObjs = append(syncObjs, u)
		}
	}
	if len(syncObjs) == 0 {
		return fmt.Errorf("the kustomization in %s builds no GitRepository or Kustomization", b.fluxDir())
	}
	b.Log.Successf("generated sync manifests")
	if err := b.commitAndPush(ctx, dir, "sync manifests", "Add Flux sync manifests",
		b.file(SyncFile), b.file(KustomizationFile)); err != nil {
		return err
	}
	b.Log.Actionf("applying sync manifests")
	for _, u := range syncObjs {
		if _, err := b.Kube.Apply(ctx, u); err != nil {
			return err
		}
	}
	b.Log.Successf("reconciled sync configuration")
	return nil
}
