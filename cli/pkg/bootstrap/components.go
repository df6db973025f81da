package bootstrap

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/pkg/manifests"
	"gotk.dev/pkg/kustomize"
)

// reconcileComponents writes gotk-components.yaml (and gotk-sync.yaml, committed later, so
// a kustomization listing both builds), commits and pushes it when it changed, and installs
// the components unless the cluster already applies them from Git.
func (b *Bootstrapper) reconcileComponents(ctx context.Context, dir string, deadline time.Time) error {
	b.Log.Actionf("generating component manifests")
	objs, err := manifests.Generate(b.Install)
	if err != nil {
		return err
	}
	components, err := ComponentsYAML(b.Install, objs)
	if err != nil {
		return err
	}
	syncYAML, err := b.Sync().YAML()
	if err != nil {
		return err
	}
	if err := writeFile(dir, b.file(ComponentsFile), components); err != nil {
		return err
	}
	if err := writeFile(dir, b.file(SyncFile), syncYAML); err != nil {
		return err
	}
	b.Log.Successf("generated component manifests")
	if err := b.commitAndPush(ctx, dir, "component manifests", fmt.Sprintf("Add Flux %s component manifests", b.Install.Version),
		b.file(ComponentsFile)); err != nil {
		return err
	}
	must, err := b.mustInstall(ctx)
	if err != nil {
		return err
	}
	if must {
		// The directory's kustomization, when the user wrote one, patches the components:
		// install what it builds, as the cluster will apply it from Git.
		if built, err := b.buildFluxDir(dir); err != nil {
			return err
		} else if built != nil {
			objs = nil
			for _, u := range built {
				if !IsSyncObject(u) {
					objs = append(objs, u)
				}
			}
		}
		b.Log.Actionf("installing components in %q namespace", b.Install.Namespace)
		if _, err := b.Kube.ApplyComponents(ctx, b.Log, objs, deadline, nil); err != nil {
			return err
		}
		b.Log.Successf("installed components")
	}
	b.Log.Successf("reconciled components")
	return nil
}

// buildFluxDir builds the Flux directory's kustomization (nil, nil when there is none).
func (b *Bootstrapper) buildFluxDir(dir string) ([]*unstructured.Unstructured, error) {
	k, err := readFile(dir, b.file(KustomizationFile))
	if err != nil || k == nil {
		return nil, err
	}
	objs, err := kustomize.Build(dir, b.fluxDir(), kustomize.Options{})
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", b.fluxDir(), err)
	}
	return objs, nil
}

// existingKustomization reads the sync Kustomization; nil when it (or its CRD) is missing.
func (b *Bootstrapper) existingKustomization(ctx context.Context) (*unstructured.Unstructured, error) {
	u := kustomizationObject.empty()
	err := b.Kube.Client.Get(ctx, b.syncKey(), u)
	switch {
	case apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get Kustomization %s: %w", b.syncKey(), err)
	}
	return u, nil
}

// checkSyncPath refuses to repoint an existing sync Kustomization at another path: that
// would prune everything the old path applied.
func (b *Bootstrapper) checkSyncPath(ctx context.Context) error {
	ks, err := b.existingKustomization(ctx)
	if err != nil || ks == nil {
		return err
	}
	current, _, _ := unstructured.NestedString(ks.Object, "spec", "path")
	want := "./" + b.Path
	if path.Clean(strings.TrimPrefix(current, "./")) != path.Clean(strings.TrimPrefix(want, "./")) {
		return fmt.Errorf("sync path configuration (%q) would overwrite path (%q) of existing Kustomization %s", want, current, b.syncKey())
	}
	return nil
}

// mustInstall reports whether the CLI installs the components: not when the sync
// Kustomization has applied a revision already, since it then applies them from Git
// (unless AlwaysInstall).
func (b *Bootstrapper) mustInstall(ctx context.Context) (bool, error) {
	if b.AlwaysInstall {
		return true, nil
	}
	ks, err := b.existingKustomization(ctx)
	if err != nil || ks == nil {
		return true, err
	}
	applied, _, _ := unstructured.NestedString(ks.Object, "status", "lastAppliedRevision")
	return applied == "", nil
}
