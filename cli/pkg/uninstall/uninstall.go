// Package uninstall is `flux uninstall` without the command line: it removes the Flux
// components of one install, the finalizers of every Flux object, the Flux CRDs and (unless
// kept, or not created by Flux) the install namespace. The flux CLI and the Terraform
// provider's destroy both call Run.
package uninstall

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/pkg/kube"
	"gotk.dev/cli/pkg/log"
	"gotk.dev/cli/pkg/manifests"
)

// Options say which install is removed and how.
type Options struct {
	// Namespace is the install's namespace.
	Namespace string
	// KeepNamespace leaves the namespace (and whatever else is in it) in place.
	KeepNamespace bool
	// DryRun has the API server validate every deletion without doing it.
	DryRun bool
	// Timeout bounds the wait for the CRDs to be gone.
	Timeout time.Duration
}

// FluxGroupSuffix ends the group of every Flux API.
const FluxGroupSuffix = ".toolkit.fluxcd.io"

// Run removes, in order: the controllers and the rest of the namespaced and cluster-wide
// objects install created (so no controller re-adds a finalizer), the finalizers of every Flux
// object in every namespace, the Flux CRDs (which deletes those objects), and the namespace
// when Flux created it. It then waits for the CRDs to be gone.
func Run(ctx context.Context, k *kube.Client, logger log.Logger, o Options) error {
	d := &deleter{kube: k, log: logger, dryRun: o.DryRun}
	ns := o.Namespace
	logger.Actionf("deleting components in %s namespace", ns)
	if err := d.deleteComponents(ctx, ns); err != nil {
		return err
	}
	logger.Actionf("deleting toolkit.fluxcd.io finalizers in all namespaces")
	crds, err := ListFluxCRDs(ctx, k)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if err := d.removeFinalizers(ctx, crd); err != nil {
			return err
		}
	}
	logger.Actionf("deleting toolkit.fluxcd.io custom resource definitions")
	for _, crd := range crds {
		if err := d.delete(ctx, crd); err != nil {
			return err
		}
	}
	if err := d.deleteNamespace(ctx, ns, o.KeepNamespace); err != nil {
		return err
	}
	if !o.DryRun && len(crds) > 0 {
		logger.Waitingf("waiting for the custom resource definitions to be deleted")
		if err := d.waitGone(ctx, crds, time.Now().Add(o.Timeout)); err != nil {
			return err
		}
	}
	logger.Successf("uninstall finished")
	return nil
}

// ListFluxCRDs returns the cluster's CRDs in the toolkit.fluxcd.io groups, sorted by name.
func ListFluxCRDs(ctx context.Context, k *kube.Client) ([]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion("apiextensions.k8s.io/v1")
	list.SetKind("CustomResourceDefinitionList")
	if err := k.Client.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list CustomResourceDefinitions: %w", err)
	}
	var out []*unstructured.Unstructured
	for i := range list.Items {
		group, _, _ := unstructured.NestedString(list.Items[i].Object, "spec", "group")
		if strings.HasSuffix(group, FluxGroupSuffix) {
			out = append(out, &list.Items[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

// StorageVersion is the version a CRD's objects are stored in.
func StorageVersion(crd *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if m["storage"] == true {
			name, _ := m["name"].(string)
			return name
		}
	}
	return ""
}

// deleter deletes (or, in a dry run, has the API server validate deleting) the objects of a
// Flux install, printing one ✔ line per object.
type deleter struct {
	kube   *kube.Client
	log    log.Logger
	dryRun bool
}

func (d *deleter) suffix() string {
	if d.dryRun {
		return " (dry run)"
	}
	return ""
}

// componentKind is a kind install creates besides the namespace and CRDs, and its scope.
type componentKind struct {
	gvk        schema.GroupVersionKind
	namespaced bool
}

// componentKinds are read from the embedded bundle, so uninstall always covers what install
// creates; Deployments come first so the controllers stop before anything else goes.
func componentKinds() ([]componentKind, error) {
	objs, err := manifests.Load()
	if err != nil {
		return nil, err
	}
	var kinds []componentKind
	for _, u := range objs {
		k := componentKind{gvk: u.GroupVersionKind(), namespaced: u.GetNamespace() != ""}
		if k.gvk.Kind == "Namespace" || k.gvk.Kind == "CustomResourceDefinition" || slices.Contains(kinds, k) {
			continue
		}
		kinds = append(kinds, k)
	}
	slices.SortStableFunc(kinds, func(a, b componentKind) int {
		switch {
		case a.gvk.Kind == b.gvk.Kind:
			return 0
		case a.gvk.Kind == "Deployment":
			return -1
		case b.gvk.Kind == "Deployment":
			return 1
		}
		return 0
	})
	return kinds, nil
}

// deleteComponents deletes the objects of every component kind that carry the labels of the
// install in ns (part-of=flux, instance=ns), namespaced ones only in ns.
func (d *deleter) deleteComponents(ctx context.Context, ns string) error {
	kinds, err := componentKinds()
	if err != nil {
		return err
	}
	selector := client.MatchingLabels{manifests.PartOfLabel: manifests.PartOfValue, manifests.InstanceLabel: ns}
	for _, k := range kinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		opts := []client.ListOption{selector}
		if k.namespaced {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := d.kube.Client.List(ctx, list, opts...); err != nil {
			return fmt.Errorf("list %s objects: %w", k.gvk.Kind, err)
		}
		for i := range list.Items {
			if err := d.delete(ctx, &list.Items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// delete deletes u in the background (dependents follow) and prints it; already gone is fine.
func (d *deleter) delete(ctx context.Context, u *unstructured.Unstructured) error {
	opts := []client.DeleteOption{client.PropagationPolicy("Background")}
	if d.dryRun {
		opts = append(opts, client.DryRunAll)
	}
	if err := d.kube.Client.Delete(ctx, u, opts...); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", manifests.ID(u), err)
	}
	d.log.Successf("%s deleted%s", manifests.ID(u), d.suffix())
	return nil
}

// removeFinalizers clears the finalizers of every object of a Flux CRD, in all namespaces:
// with the controllers gone nothing would remove them, and the CRD's deletion would hang.
func (d *deleter) removeFinalizers(ctx context.Context, crd *unstructured.Unstructured) error {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	version := StorageVersion(crd)
	if version == "" || !kube.CRDEstablished(crd) {
		return nil // nothing can be stored, or nothing served to list
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(schema.GroupVersionKind{Group: group, Version: version, Kind: kind + "List"})
	if err := d.kube.Client.List(ctx, list); err != nil {
		return fmt.Errorf("list %s objects: %w", kind, err)
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
	for i := range list.Items {
		u := &list.Items[i]
		if len(u.GetFinalizers()) == 0 {
			continue
		}
		var opts []client.PatchOption
		if d.dryRun {
			opts = append(opts, client.DryRunAll)
		}
		if err := d.kube.Client.Patch(ctx, u, patch, opts...); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("remove the finalizers of %s: %w", manifests.ID(u), err)
		}
		d.log.Successf("%s finalizers deleted%s", manifests.ID(u), d.suffix())
	}
	return nil
}

// deleteNamespace deletes ns unless asked to keep it or Flux did not create it (no
// part-of=flux label): then it says why the namespace stays.
func (d *deleter) deleteNamespace(ctx context.Context, ns string, keep bool) error {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	if err := d.kube.Client.Get(ctx, client.ObjectKey{Name: ns}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("get namespace %s: %w", ns, err)
	}
	switch {
	case keep:
		d.log.Actionf("keeping namespace %s (--keep-namespace)", ns)
		return nil
	case u.GetLabels()[manifests.PartOfLabel] != manifests.PartOfValue:
		d.log.Warningf("namespace %s is not labelled %s=%s (Flux did not create it): keeping it and its other content",
			ns, manifests.PartOfLabel, manifests.PartOfValue)
		return nil
	}
	return d.delete(ctx, u)
}

// waitGone waits until every object in objs is deleted.
func (d *deleter) waitGone(ctx context.Context, objs []*unstructured.Unstructured, deadline time.Time) error {
	for _, u := range objs {
		probe := &unstructured.Unstructured{}
		probe.SetGroupVersionKind(u.GroupVersionKind())
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Until(deadline), true, func(ctx context.Context) (bool, error) {
			err := d.kube.Client.Get(ctx, client.ObjectKeyFromObject(u), probe)
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			return fmt.Errorf("%s is still not deleted: %w", manifests.ID(u), err)
		}
	}
	return nil
}
