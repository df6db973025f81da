package bucket

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
)

// Index is the set of selected objects of a bucket, by key. Its Revision is what Flux reports
// as the Artifact revision: identical key/ETag sets give identical revisions, whatever the
// listing order.
type Index struct {
	objects map[string]Object
}

// NewIndex returns an index of the given objects (a later duplicate key replaces an earlier).
func NewIndex(objects ...Object) *Index {
	idx := &Index{objects: make(map[string]Object, len(objects))}
	for _, o := range objects {
		idx.add(o)
	}
	return idx
}

func (i *Index) add(o Object) { i.objects[o.Key] = o }

// Len is the number of objects.
func (i *Index) Len() int { return len(i.objects) }

// Keys returns the object keys in byte order.
func (i *Index) Keys() []string {
	keys := make([]string, 0, len(i.objects))
	for k := range i.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Objects returns the objects in key order.
func (i *Index) Objects() []Object {
	out := make([]Object, 0, len(i.objects))
	for _, k := range i.Keys() {
		out = append(out, i.objects[k])
	}
	return out
}

// Get returns the object with the given key.
func (i *Index) Get(key string) (Object, bool) {
	o, ok := i.objects[key]
	return o, ok
}

// TotalSize is the sum of the listed object sizes.
func (i *Index) TotalSize() int64 {
	var n int64
	for _, o := range i.objects {
		n += o.Size
	}
	return n
}

// WriteTo writes the index as Flux digests it: one "<key> <etag>\n" line per object, keys in
// byte order.
func (i *Index) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, k := range i.Keys() {
		n, err := io.WriteString(w, k+" "+i.objects[k].ETag+"\n")
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Digest is the hex SHA-256 of the index as WriteTo writes it. An empty index digests the
// empty string (e3b0c442...).
func (i *Index) Digest() string {
	h := sha256.New()
	_, _ = i.WriteTo(h)
	return hex.EncodeToString(h.Sum(nil))
}

// Revision is the Artifact revision of the index: "sha256:<Digest>".
func (i *Index) Revision() string { return "sha256:" + i.Digest() }

// HasRevision reports whether revision names this index: the current "sha256:<hex>" form, or
// the bare hex digest that Bucket Artifacts of the v1beta2 API carried.
func (i *Index) HasRevision(revision string) bool {
	d := i.Digest()
	return revision == "sha256:"+d || strings.EqualFold(revision, d)
}

// UpToDate reports whether artifact (nil when there is none yet) was built from a bucket
// whose index equals this one, so nothing needs downloading.
func (i *Index) UpToDate(artifact *meta.Artifact) bool {
	return artifact != nil && i.HasRevision(artifact.Revision)
}
