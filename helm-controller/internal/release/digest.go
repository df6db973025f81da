package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"

	"helm.sh/helm/v3/pkg/release"
	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v2"
)

// digestOf formats the SHA-256 of what write writes as "sha256:<hex>".
func digestOf(write func(w io.Writer) error) string {
	h := sha256.New()
	if err := write(h); err != nil {
		return ""
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ValuesDigest returns the digest of chart values as upstream computes
// status.history[].configDigest and status.lastAttemptedConfigDigest: the SHA-256 of the
// values encoded as YAML with every mapping sorted by key (byte order); empty or nil values
// digest as empty input.
func ValuesDigest(values map[string]interface{}) string {
	return digestOf(func(w io.Writer) error {
		if len(values) == 0 {
			return nil
		}
		ms := yaml.JSONObjectToYAMLObject(values)
		sortMapSlice(ms)
		return goyaml.NewEncoder(w).Encode(ms)
	})
}

// sortMapSlice sorts ms and every mapping nested in it (also inside lists) by key.
func sortMapSlice(ms goyaml.MapSlice) {
	sort.SliceStable(ms, func(i, j int) bool { return keyString(ms[i].Key) < keyString(ms[j].Key) })
	for _, item := range ms {
		sortNested(item.Value)
	}
}

func sortNested(v interface{}) {
	switch t := v.(type) {
	case goyaml.MapSlice:
		sortMapSlice(t)
	case []interface{}:
		for _, e := range t {
			sortNested(e)
		}
	}
}

func keyString(k interface{}) string {
	s, _ := k.(string)
	return s
}

// ReleaseDigest returns the digest of a release record: the SHA-256 of its JSON encoding.
// Any change to the record (a new status, a test run, a manual edit of the storage Secret)
// changes it, which is how changes made outside the controller are noticed.
func ReleaseDigest(rls *release.Release) string {
	return digestOf(func(w io.Writer) error { return json.NewEncoder(w).Encode(rls) })
}

// ObjectDigest returns the SHA-256 of v's JSON encoding, as upstream digests
// spec.postRenderers (status.observedPostRenderersDigest) and spec.commonMetadata
// (status.observedCommonMetadataDigest).
func ObjectDigest(v interface{}) string {
	return digestOf(func(w io.Writer) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}
