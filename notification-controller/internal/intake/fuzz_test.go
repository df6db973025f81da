package intake

import (
	"bytes"
	"testing"
)

// FuzzDecodeEvent: any body either decodes to a valid event or fails cleanly, and metadata
// cleanup and keying never panic. The seed corpus is in testdata/fuzz/FuzzDecodeEvent.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"involvedObject":{"kind":"Kustomization","name":"a","namespace":"b","apiVersion":"kustomize.toolkit.fluxcd.io/v1"},"severity":"info","message":"m","reason":"r","metadata":{"kustomize.toolkit.fluxcd.io/revision":"main@sha1:abc"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeEvent(bytes.NewReader(body), 1<<16)
		if err != nil {
			return
		}
		if Validate(ev) != nil {
			t.Fatal("DecodeEvent returned an invalid event")
		}
		CleanupMetadata(ev)
		for k := range ev.Metadata {
			if k == "" {
				t.Fatal("empty metadata key kept")
			}
		}
		if EventKey(ev) == "" {
			t.Fatal("empty key")
		}
	})
}
