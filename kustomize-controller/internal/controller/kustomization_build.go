package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"gotk.dev/decrypt"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/options"
	"gotk.dev/pkg/reconcile"
	"gotk.dev/pkg/substitute"
)

const (
	buildFailedReason      = "BuildFailed"
	decryptionFailedReason = "DecryptionFailed"
	substituteFailedReason = "SubstituteFailed"
	varsNotFoundReason     = "SubstituteFromNotFound"
	ownerLabelName         = "kustomize.toolkit.fluxcd.io/name"
	ownerLabelNamespace    = "kustomize.toolkit.fluxcd.io/namespace"
)

// build runs kustomize on spec.path (cached per artifact digest and build options), decrypts
// SOPS Secrets and substitutes post-build variables.
func (r *KustomizationReconciler) build(ctx context.Context, s *scope) (reconcile.Result, error) {
	return reconcile.Result{}, r.buildObjects(ctx, s)
}

func (r *KustomizationReconciler) buildObjects(ctx context.Context, s *scope) error {
	obj := s.obj
	obj.Status.LastAttemptedRevision = s.revision
	objs, err := r.builder.Build(s.artifact.Digest, s.dir, obj.Spec.Path, buildOptions(obj, r.opts.NoRemoteBases))
	if err != nil {
		return reconcile.FailAfter(buildFailedReason, fmt.Errorf("kustomize build failed for revision '%s': %w", s.revision, err), retryAfter(obj))
	}
	if err := r.decrypt(ctx, s, objs); err != nil {
		return err
	}
	if pb := obj.Spec.PostBuild; pb != nil {
		vars, err := r.substituteVars(ctx, obj)
		if err != nil {
			return err
		}
		// With the default strategy (WithVariables) no variable means no substitution, so
		// manifests holding ${...} for other tools are applied as written.
		if len(vars) > 0 || pb.SubstituteStrategy == kustomizev1.SubstituteStrategyAlways {
			if err := substitute.Apply(objs, vars, substitute.Options{Strict: r.opts.StrictSubstitutions}); err != nil {
				return reconcile.FailAfter(substituteFailedReason, fmt.Errorf("post-build substitution failed for revision '%s': %w", s.revision, err), retryAfter(obj))
			}
		}
	}
	for _, o := range objs {
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[ownerLabelName] = obj.Name
		labels[ownerLabelNamespace] = obj.Namespace
		o.SetLabels(labels)
	}
	s.objects = objs
	s.digest = contentDigest(objs)
	return nil
}

// decrypt decrypts SOPS-encrypted Secrets with the keys of spec.decryption.secretRef. An
// encrypted Secret without decryption configured is an error naming it: applying ciphertext
// would break whatever reads the Secret.
func (r *KustomizationReconciler) decrypt(ctx context.Context, s *scope, all []*unstructuredObj) error {
	obj := s.obj
	d := obj.Spec.Decryption
	objs := decryptable(all)
	if d == nil {
		if err := decrypt.RequireNoneEncrypted(objs); err != nil {
			return reconcile.FailAfter(decryptionFailedReason, err, retryAfter(obj))
		}
		return nil
	}
	if err := r.checkDecryptionIdentity(d); err != nil {
		return err
	}
	if d.Provider != kustomizev1.DecryptionProviderSOPS {
		return reconcile.Stall(decryptionFailedReason, fmt.Errorf("decryption provider '%s' is not supported", d.Provider))
	}
	data := map[string][]byte{}
	var names []string
	// The fallback keys of --sops-age-secret come first: the object's own keys win on a
	// name clash.
	for _, ref := range []struct {
		set  bool
		key  types.NamespacedName
		what string
	}{
		{r.opts.SOPSAgeSecret != "", types.NamespacedName{Namespace: r.runtimeNamespace(), Name: r.opts.SOPSAgeSecret}, "--sops-age-secret"},
		{d.SecretRef != nil, types.NamespacedName{Namespace: obj.Namespace, Name: secretRefName(d)}, "decryption secret"},
	} {
		if !ref.set {
			continue
		}
		var secret corev1.Secret
		if err := r.Get(ctx, ref.key, &secret); err != nil {
			return reconcile.FailAfter(decryptionFailedReason, fmt.Errorf("failed to get %s '%s': %w", ref.what, ref.key, err), retryAfter(obj))
		}
		maps.Copy(data, secret.Data)
		names = append(names, fmt.Sprintf("%s '%s'", ref.what, ref.key))
	}
	dec, err := decrypt.NewDecryptor(data)
	if err != nil {
		return reconcile.FailAfter(decryptionFailedReason, fmt.Errorf("%s: %w", strings.Join(names, ", "), err), retryAfter(obj))
	}
	if err := dec.DecryptObjects(objs); err != nil {
		return reconcile.FailAfter(decryptionFailedReason, err, retryAfter(obj))
	}
	return nil
}

// decryptable leaves out the objects annotated kustomize.toolkit.fluxcd.io/decrypt: Disabled:
// they are applied as written, for another party to decrypt.
func decryptable(objs []*unstructuredObj) []*unstructuredObj {
	out := make([]*unstructuredObj, 0, len(objs))
	for _, o := range objs {
		if o != nil && strings.EqualFold(o.GetAnnotations()[kustomizev1.DecryptAnnotationKey], kustomizev1.DisabledValue) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// runtimeNamespace is the controller's own namespace.
func (r *KustomizationReconciler) runtimeNamespace() string {
	if r.opts.RuntimeNamespace != "" {
		return r.opts.RuntimeNamespace
	}
	return options.RuntimeNamespace()
}

func secretRefName(d *kustomizev1.Decryption) string {
	if d.SecretRef == nil {
		return ""
	}
	return d.SecretRef.Name
}

// substituteVars merges spec.postBuild.substituteFrom (in order, later wins) and
// spec.postBuild.substitute (wins over all).
func (r *KustomizationReconciler) substituteVars(ctx context.Context, obj *kustomizev1.Kustomization) (map[string]string, error) {
	vars := map[string]string{}
	for _, ref := range obj.Spec.PostBuild.SubstituteFrom {
		key := types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}
		switch ref.Kind {
		case kustomizev1.SubstituteKindConfigMap:
			var cm corev1.ConfigMap
			if err := r.Get(ctx, key, &cm); err != nil {
				if apierrors.IsNotFound(err) && ref.Optional {
					continue
				}
				return nil, reconcile.FailAfter(varsNotFoundReason, fmt.Errorf("substituteFrom ConfigMap '%s': %w", key, err), retryAfter(obj))
			}
			for k, v := range cm.Data {
				vars[k] = v
			}
		case kustomizev1.SubstituteKindSecret:
			var secret corev1.Secret
			if err := r.Get(ctx, key, &secret); err != nil {
				if apierrors.IsNotFound(err) && ref.Optional {
					continue
				}
				return nil, reconcile.FailAfter(varsNotFoundReason, fmt.Errorf("substituteFrom Secret '%s': %w", key, err), retryAfter(obj))
			}
			for k, v := range secret.Data {
				vars[k] = string(v)
			}
		default:
			return nil, reconcile.Stall(substituteFailedReason, fmt.Errorf("substituteFrom kind '%s' is not supported (ConfigMap or Secret)", ref.Kind))
		}
	}
	for k, v := range obj.Spec.PostBuild.Substitute {
		vars[k] = v
	}
	return vars, nil
}

func buildOptions(obj *kustomizev1.Kustomization, noRemoteBases bool) kustomize.Options {
	o := kustomize.Options{
		TargetNamespace:         obj.Spec.TargetNamespace,
		NamePrefix:              obj.Spec.NamePrefix,
		NameSuffix:              obj.Spec.NameSuffix,
		Patches:                 obj.Spec.Patches,
		Images:                  obj.Spec.Images,
		Components:              obj.Spec.Components,
		IgnoreMissingComponents: obj.Spec.IgnoreMissingComponents,
		NoRemoteBases:           noRemoteBases,
	}
	if cm := obj.Spec.CommonMetadata; cm != nil {
		o.CommonMetadata = &kustomize.CommonMetadata{Labels: cm.Labels, Annotations: cm.Annotations}
	}
	return o
}

// contentDigest identifies the final manifests, for status.history.
func contentDigest(objs []*unstructuredObj) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, o := range objs {
		_ = enc.Encode(o.Object)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
