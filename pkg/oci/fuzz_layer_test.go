package oci

import (
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FuzzSelectLayer parses arbitrary manifests and selects a layer: never a panic, and a
// selected layer always has the requested (or Flux's default) media type.
func FuzzSelectLayer(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"layers":[{"mediaType":"`+ContentMediaType+`","size":10,"digest":"sha256:`+
		"0000000000000000000000000000000000000000000000000000000000000000"+`"}]}`), "")
	f.Add([]byte(`{"layers":[{"mediaType":"a"},{"mediaType":"b"}]}`), "b")
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`not json`), "x")
	f.Fuzz(func(t *testing.T, manifest []byte, mediaType string) {
		var m v1.Manifest
		if err := json.Unmarshal(manifest, &m); err != nil {
			return
		}
		d, err := selectLayer(m.Layers, mediaType)
		if err != nil {
			return
		}
		want := mediaType
		if want == "" {
			want = ContentMediaType
		}
		if string(d.MediaType) != want && mediaType != "" {
			t.Errorf("selected %q for media type %q", d.MediaType, mediaType)
		}
	})
}
