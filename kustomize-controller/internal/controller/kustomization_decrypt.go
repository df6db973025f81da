package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"gotk.dev/decrypt"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/reconcile"
)

// decryption is a Kustomization's SOPS decryptor (nil without spec.decryption) and an
// identifier of its keys, which keeps builds decrypted with different keys apart in the
// build cache.
type decryption struct {
	dec *decrypt.Decryptor
	id  string
}

// decryptor reads the keys of spec.decryption.secretRef (after the --sops-age-secret
// fallback keys, so that the object's own win on a name clash).
func (r *KustomizationReconciler) decryptor(ctx context.Context, obj *kustomizev1.Kustomization) (decryption, error) {
	d := obj.Spec.Decryption
	if d == nil {
		return decryption{}, nil
	}
	identity, err := r.decryptionIdentity(obj)
	if err != nil {
		return decryption{}, err
	}
	if d.Provider != kustomizev1.DecryptionProviderSOPS {
		return decryption{}, reconcile.Stall(decryptionFailedReason, fmt.Errorf("decryption provider '%s' is not supported", d.Provider))
	}
	data := map[string][]byte{}
	var names []string
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
			return decryption{}, reconcile.FailAfter(decryptionFailedReason, fmt.Errorf("failed to get %s '%s': %w", ref.what, ref.key, err), retryAfter(obj))
		}
		maps.Copy(data, secret.Data)
		names = append(names, fmt.Sprintf("%s '%s'", ref.what, ref.key))
	}
	dec, err := decrypt.NewDecryptor(data)
	if err != nil {
		return decryption{}, reconcile.FailAfter(decryptionFailedReason, fmt.Errorf("%s: %w", strings.Join(names, ", "), err), retryAfter(obj))
	}
	id := keysDigest(data)
	if identity != nil {
		// Builds decrypted with another identity are not this one's to reuse.
		dec, id = dec.WithIdentity(identity), id+" "+identity.Name
	}
	return decryption{dec: dec, id: id}, nil
}

// keysDigest identifies a set of decryption keys (by a digest: the cache key never holds
// them).
func keysDigest(data map[string][]byte) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(data)) {
		fmt.Fprintf(h, "%d:%s%d:", len(name), name, len(data[name]))
		h.Write(data[name])
	}
	return "sops:" + hex.EncodeToString(h.Sum(nil))
}

// decrypt decrypts the SOPS-encrypted objects of the build output. An encrypted object
// without decryption configured is an error naming it: applying ciphertext would break
// whatever reads it.
func (r *KustomizationReconciler) decrypt(obj *kustomizev1.Kustomization, dec *decrypt.Decryptor, all []*unstructuredObj) error {
	objs := decryptable(all)
	if dec == nil {
		if err := decrypt.RequireNoneEncrypted(objs); err != nil {
			return reconcile.FailAfter(decryptionFailedReason, err, retryAfter(obj))
		}
		return nil
	}
	if err := dec.DecryptObjects(objs); err != nil {
		return reconcile.FailAfter(decryptionFailedReason, err, retryAfter(obj))
	}
	return nil
}

// secretSources decrypts SOPS-encrypted files read by secretGenerators before the build, as
// upstream Flux does: "envs" dotenv files, and "files" entries in the format their Secret key
// names (config.json=config.json.encrypted). Files that are not encrypted pass unchanged.
type secretSources struct{ dec *decrypt.Decryptor }

func (s secretSources) DecryptSecretSource(src kustomize.SecretSource, data []byte) ([]byte, error) {
	if !decrypt.IsEncryptedData(data) {
		return data, nil
	}
	if s.dec == nil {
		return nil, fmt.Errorf("file '%s' is SOPS-encrypted but spec.decryption is not set", src.Path)
	}
	as := src.Key
	if src.Env {
		as = ".env"
	}
	return s.dec.DecryptFileAs(src.Path, as, data)
}
