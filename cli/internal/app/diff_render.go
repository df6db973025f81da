package app

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// secretMask stands for Secret values in diffs: they must never be printed. When a value
// changes, the two sides get different masks so the diff still shows which key drifted.
const (
	secretMask       = "*****"
	secretMaskBefore = "***** (before)"
	secretMaskAfter  = "***** (after)"
)

// objectDiff is the unified diff between the live object and the result of applying the
// build, both as YAML without the fields every write changes. Secret values are masked.
func objectDiff(live, merged *unstructured.Unstructured) (string, error) {
	a, b := diffable(live), diffable(merged)
	if live.GetKind() == "Secret" && live.GetAPIVersion() == "v1" {
		maskSecretValues(a, b)
	}
	ay, err := yaml.Marshal(a.Object)
	if err != nil {
		return "", err
	}
	by, err := yaml.Marshal(b.Object)
	if err != nil {
		return "", err
	}
	return unifiedDiff(string(ay), string(by), "live", "merged", 3), nil
}

// diffable copies u without what changes on every write or only reflects the server's
// bookkeeping.
func diffable(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "generation"},
		{"metadata", "uid"}, {"metadata", "creationTimestamp"}, {"status"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	return c
}

// maskSecretValues replaces every data and stringData value of two versions of a Secret.
// Equal values get the same mask, different ones different masks.
func maskSecretValues(a, b *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		am, _ := a.Object[field].(map[string]any)
		bm, _ := b.Object[field].(map[string]any)
		for k, av := range am {
			bv, inB := bm[k]
			switch {
			case inB && av == bv:
				am[k], bm[k] = secretMask, secretMask
			case inB:
				am[k], bm[k] = secretMaskBefore, secretMaskAfter
			default:
				am[k] = secretMask
			}
		}
		for k := range bm {
			if _, inA := am[k]; !inA {
				bm[k] = secretMask
			}
		}
	}
}
