package fluxdiff

import (
	"bytes"
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"gotk.dev/decrypt"
)

// Masks stand for Secret values in diffs: they must never be shown. When a value changes,
// the two sides get different masks so the diff still shows which key drifted.
const (
	SecretMask       = "*****"
	SecretMaskBefore = "***** (before)"
	SecretMaskAfter  = "***** (after)"
	// SOPSMask replaces the values of SOPS-encrypted Secrets in a build: the CLI has no keys
	// to decrypt them, and printing ciphertext as if it were the applied value would mislead.
	SOPSMask = "**SOPS**"
)

// Diffable copies u without what changes on every write or only reflects the server's
// bookkeeping.
func Diffable(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "generation"},
		{"metadata", "uid"}, {"metadata", "creationTimestamp"}, {"status"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	return c
}

// MaskSecretValues replaces every data and stringData value of two versions of a Secret.
// Equal values get the same mask, different ones different masks.
func MaskSecretValues(a, b *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		am, _ := a.Object[field].(map[string]any)
		bm, _ := b.Object[field].(map[string]any)
		for k, av := range am {
			bv, inB := bm[k]
			switch {
			case inB && av == bv:
				am[k], bm[k] = SecretMask, SecretMask
			case inB:
				am[k], bm[k] = SecretMaskBefore, SecretMaskAfter
			default:
				am[k] = SecretMask
			}
		}
		for k := range bm {
			if _, inA := am[k]; !inA {
				bm[k] = SecretMask
			}
		}
	}
}

// MaskSOPS replaces every value of a SOPS-encrypted Secret with a mask and drops the SOPS
// metadata.
func MaskSOPS(obj *unstructured.Unstructured) {
	if obj.GetKind() != "Secret" || !decrypt.IsEncryptedObject(obj) {
		return
	}
	for field, mask := range map[string]string{"data": base64.StdEncoding.EncodeToString([]byte(SOPSMask)), "stringData": SOPSMask} {
		m, ok := obj.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = mask
		}
	}
	delete(obj.Object, "sops")
}

// YAML is u as YAML, the form diffs show.
func YAML(u *unstructured.Unstructured) (string, error) {
	b, err := yaml.Marshal(u.Object)
	return string(b), err
}

func sameYAML(a, b *unstructured.Unstructured) (bool, error) {
	ay, err := yaml.Marshal(a.Object)
	if err != nil {
		return false, err
	}
	by, err := yaml.Marshal(b.Object)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ay, by), nil
}
