package values

import (
	"context"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
)

// FuzzCompose feeds arbitrary values documents and targetPath values through Compose: it
// must return values or a *ReferenceError, never panic.
func FuzzCompose(f *testing.F) {
	f.Add([]byte("a: b\nc: [1, 2]\n"), "x.y[1]", "{a,b}", false)
	f.Add([]byte("- not a map"), `a\.b`, `"quoted"`, true)
	f.Add([]byte("a: &x [*x]"), "a[", "", false)
	f.Fuzz(func(t *testing.T, doc []byte, path, value string, literal bool) {
		objs := objects{"ConfigMap/doc": {"values.yaml": doc}, "Secret/v": {"k": []byte(value)}}
		refs := []meta.ValuesReference{{Kind: "ConfigMap", Name: "doc"}}
		if path != "" {
			refs = append(refs, meta.ValuesReference{Kind: "Secret", Name: "v", ValuesKey: "k", TargetPath: path, Literal: literal})
		}
		_, _ = Compose(context.Background(), objs.get, "ns", refs, map[string]interface{}{"inline": []interface{}{1}})
	})
}
