package bucket

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
)

func TestIndexRevision(t *testing.T) {
	tests := []struct {
		name    string
		objects []Object
		want    string
	}{{
		// The revision Flux documents for an empty bucket: sha256 of the empty string.
		name: "empty",
		want: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	}, {
		// sha256("bar baz\nfoo bar\n"): keys sorted, one "<key> <etag>" line each.
		name:    "sorted key etag lines",
		objects: []Object{{Key: "foo", ETag: "bar"}, {Key: "bar", ETag: "baz"}},
		want:    "sha256:" + sha256Hex("bar baz\nfoo bar\n"),
	}, {
		name:    "sizes do not count",
		objects: []Object{{Key: "bar", ETag: "baz", Size: 10}, {Key: "foo", ETag: "bar", Size: 99}},
		want:    "sha256:" + sha256Hex("bar baz\nfoo bar\n"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := NewIndex(tt.objects...)
			if got := idx.Revision(); got != tt.want {
				t.Errorf("Revision() = %s, want %s", got, tt.want)
			}
			if !idx.HasRevision(tt.want) || !idx.HasRevision(strings.TrimPrefix(tt.want, "sha256:")) {
				t.Errorf("HasRevision rejects its own revision %s (or its legacy bare form)", tt.want)
			}
		})
	}
}

func TestIndexChangesWithETagAndKeys(t *testing.T) {
	base := NewIndex(Object{Key: "a", ETag: "1"}, Object{Key: "b", ETag: "2"})
	for name, other := range map[string]*Index{
		"etag changed": NewIndex(Object{Key: "a", ETag: "1"}, Object{Key: "b", ETag: "3"}),
		"key added":    NewIndex(Object{Key: "a", ETag: "1"}, Object{Key: "b", ETag: "2"}, Object{Key: "c", ETag: "3"}),
		"key removed":  NewIndex(Object{Key: "a", ETag: "1"}),
		"key renamed":  NewIndex(Object{Key: "a", ETag: "1"}, Object{Key: "c", ETag: "2"}),
	} {
		if other.Revision() == base.Revision() {
			t.Errorf("%s: revision unchanged (%s)", name, base.Revision())
		}
		if other.UpToDate(&meta.Artifact{Revision: base.Revision()}) {
			t.Errorf("%s: UpToDate with the old artifact", name)
		}
	}
	same := NewIndex(Object{Key: "b", ETag: "2"}, Object{Key: "a", ETag: "1"})
	if !same.UpToDate(&meta.Artifact{Revision: base.Revision()}) {
		t.Error("same objects in another order: not UpToDate")
	}
	if base.UpToDate(nil) {
		t.Error("UpToDate(nil) = true: a Bucket without an artifact needs a download")
	}
	if base.HasRevision("sha1:" + base.Digest()) {
		t.Error("HasRevision accepts another algorithm's prefix")
	}
}

func TestIndexAccessors(t *testing.T) {
	idx := NewIndex(Object{Key: "z", ETag: "1", Size: 3}, Object{Key: "a", ETag: "2", Size: 4})
	if got := strings.Join(idx.Keys(), ","); got != "a,z" {
		t.Errorf("Keys() = %s", got)
	}
	if idx.Len() != 2 || idx.TotalSize() != 7 {
		t.Errorf("Len() = %d, TotalSize() = %d", idx.Len(), idx.TotalSize())
	}
	if o, ok := idx.Get("z"); !ok || o.ETag != "1" {
		t.Errorf("Get(z) = %v, %v", o, ok)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
