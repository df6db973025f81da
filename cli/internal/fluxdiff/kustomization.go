package fluxdiff

import (
	"context"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/ssa"
	"gotk.dev/pkg/substitute"
)

// BuildOptions change how Build substitutes variables.
type BuildOptions struct {
	// Strict fails on a variable without a value and no default.
	Strict bool
	// DryRun builds without the cluster: substituteFrom is not read (c may be nil).
	DryRun bool
	// Path names the directory in errors (default: rel).
	Path string
}

// Build reproduces kustomize-controller's build of ks on the directory rel under root:
// kustomize with the Kustomization's overrides, post-build substitution (substituteFrom read
// from the cluster unless DryRun) and the owner labels. SOPS-encrypted Secrets are masked.
func Build(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, root, rel string, o BuildOptions) ([]*unstructured.Unstructured, error) {
	objs, err := kustomize.Build(root, rel, KustomizeOptions(ks))
	if err != nil {
		name := o.Path
		if name == "" {
			name = rel
		}
		return nil, fmt.Errorf("kustomize build of %s failed: %w", name, err)
	}
	if pb := ks.Spec.PostBuild; pb != nil {
		vars, err := SubstituteVars(ctx, c, ks, o.DryRun)
		if err != nil {
			return nil, err
		}
		if err := substitute.Apply(objs, vars, substitute.Options{Strict: o.Strict}); err != nil {
			return nil, fmt.Errorf("post-build substitution failed: %w", err)
		}
	}
	for _, obj := range objs {
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[kustomizev1.NameLabelKey] = ks.Name
		labels[kustomizev1.NamespaceLabelKey] = ks.Namespace
		obj.SetLabels(labels)
		MaskSOPS(obj)
	}
	return objs, nil
}

// KustomizationRequest is the diff request of ks for the objects its build made: applied by
// kustomize-controller with spec.ignore's rules, and, when it prunes, what its inventory has
// that the build dropped.
func KustomizationRequest(ks *kustomizev1.Kustomization, objs []*unstructured.Unstructured) Request {
	r := Request{
		Owner:   ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group},
		Objects: objs,
	}
	for _, rule := range ks.Spec.Ignore {
		r.IgnoreRules = append(r.IgnoreRules, ssa.IgnoreRule{Paths: rule.Paths, Target: rule.Target})
	}
	if ks.Spec.Prune && ks.Status.Inventory != nil {
		r.Applied = &inventory.Inventory{}
		for _, e := range ks.Status.Inventory.Entries {
			r.Applied.Entries = append(r.Applied.Entries, inventory.Entry(e))
		}
	}
	return r
}

// KustomizationFromSource diffs what the next reconcile of ks would change with the
// artifact its source has now: the artifact is downloaded (digest checked) and built at
// spec.path, as kustomize-controller does.
func KustomizationFromSource(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization) ([]Change, error) {
	ref := ks.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	apiVersion := ref.APIVersion
	if apiVersion == "" {
		apiVersion = sourceAPIVersion
	}
	dir, _, cleanup, err := fetchSource(ctx, c, apiVersion, ref.Kind, ns, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("Kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	defer cleanup()
	rel := strings.TrimPrefix(path.Clean("/"+ks.Spec.Path), "/")
	if rel == "" {
		rel = "."
	}
	objs, err := Build(ctx, c, ks, dir, rel, BuildOptions{})
	if err != nil {
		return nil, fmt.Errorf("Kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	return Compute(ctx, c, KustomizationRequest(ks, objs))
}

// KustomizeOptions are the Kustomization's build overrides, as the controller passes them.
func KustomizeOptions(ks *kustomizev1.Kustomization) kustomize.Options {
	o := kustomize.Options{
		TargetNamespace:         ks.Spec.TargetNamespace,
		NamePrefix:              ks.Spec.NamePrefix,
		NameSuffix:              ks.Spec.NameSuffix,
		Patches:                 ks.Spec.Patches,
		Images:                  ks.Spec.Images,
		Components:              ks.Spec.Components,
		IgnoreMissingComponents: ks.Spec.IgnoreMissingComponents,
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		o.CommonMetadata = &kustomize.CommonMetadata{Labels: cm.Labels, Annotations: cm.Annotations}
	}
	return o
}

// SubstituteVars merges spec.postBuild.substituteFrom (read from the cluster, unless
// dry-run) and spec.postBuild.substitute with the controller's precedence.
func SubstituteVars(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, dryRun bool) (map[string]string, error) {
	var from []substitute.VarSource
	if !dryRun {
		for _, ref := range ks.Spec.PostBuild.SubstituteFrom {
			key := client.ObjectKey{Namespace: ks.Namespace, Name: ref.Name}
			switch ref.Kind {
			case "ConfigMap":
				var cm corev1.ConfigMap
				if err := c.Get(ctx, key, &cm); err != nil {
					if apierrors.IsNotFound(err) && ref.Optional {
						continue
					}
					return nil, fmt.Errorf("substituteFrom ConfigMap '%s': %w", key, err)
				}
				from = append(from, substitute.FromConfigMapData(cm.Namespace, cm.Name, cm.Data))
			case "Secret":
				var s corev1.Secret
				if err := c.Get(ctx, key, &s); err != nil {
					if apierrors.IsNotFound(err) && ref.Optional {
						continue
					}
					return nil, fmt.Errorf("substituteFrom Secret '%s': %w", key, err)
				}
				from = append(from, substitute.FromSecretData(s.Namespace, s.Name, s.Data))
			default:
				return nil, fmt.Errorf("substituteFrom kind '%s' is not supported (ConfigMap or Secret)", ref.Kind)
			}
		}
	}
	return substitute.Vars(from, ks.Spec.PostBuild.Substitute)
}
