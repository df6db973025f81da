package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"gotk.dev/pkg/tarball"
)

// emptyConfig is the config blob of a Flux artifact: nothing to configure.
const emptyConfig = "{}"

// PushOptions describe the artifact Push builds.
type PushOptions struct {
	// Source is the URL of the artifact's origin (org.opencontainers.image.source), e.g. a Git
	// repository URL.
	Source string
	// Revision is the origin's revision (org.opencontainers.image.revision), e.g.
	// "main@sha1:<hex>".
	Revision string
	// Annotations are added to the manifest. They may set org.opencontainers.image.created
	// (for reproducible digests); Source and Revision, when set, win over the same keys here.
	Annotations map[string]string
	// Ignore filters the files that go into the layer (nil keeps everything).
	Ignore tarball.Filter
	// Created is the creation time recorded when Annotations has none. Zero means now.
	Created time.Time
}

// Push packs path (a directory, or a single file) as a Flux artifact and pushes it to ref
// ("oci://host/repo:tag", default tag "latest"). It returns the manifest digest. The layer
// is deterministic (tarball.Write), so the same tree, annotations and creation time give the
// same digest.
func (c *Client) Push(ctx context.Context, ref, path string, opts PushOptions) (string, error) {
	r, err := c.reference(ref)
	if err != nil {
		return "", err
	}
	tag, ok := r.(name.Tag)
	if !ok {
		return "", fmt.Errorf("push to %s: the destination must be a tag, not a digest", ref)
	}
	layer, err := buildLayer(path, opts.Ignore)
	if err != nil {
		return "", fmt.Errorf("pack %s: %w", path, err)
	}
	defer layer.remove()

	pusher, err := c.pusher()
	if err != nil {
		return "", err
	}
	repo := tag.Context()
	config := static.NewLayer([]byte(emptyConfig), ConfigMediaType)
	content, err := partial.CompressedToLayer(layer)
	if err != nil {
		return "", err
	}
	for _, l := range []v1.Layer{config, content} {
		if err := pusher.Upload(ctx, repo, l); err != nil {
			return "", fmt.Errorf("push %s: upload blob: %w", ref, explain(err))
		}
	}

	configDigest, _ := config.Digest()
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: ConfigMediaType,
			Digest:    configDigest,
			Size:      int64(len(emptyConfig)),
		},
		Layers: []v1.Descriptor{{
			MediaType: ContentMediaType,
			Digest:    layer.digest,
			Size:      layer.size,
		}},
		Annotations: pushAnnotations(opts),
	}
	body, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	raw := rawManifest{body: body, mediaType: types.OCIManifestSchema1}
	if err := pusher.Put(ctx, tag, raw); err != nil {
		return "", fmt.Errorf("push %s: put manifest: %w", ref, explain(err))
	}
	return raw.digest(), nil
}

// pushAnnotations merges the user's annotations with the standard ones.
func pushAnnotations(opts PushOptions) map[string]string {
	a := make(map[string]string, len(opts.Annotations)+3)
	for k, v := range opts.Annotations {
		a[k] = v
	}
	if _, ok := a[CreatedAnnotation]; !ok {
		created := opts.Created
		if created.IsZero() {
			created = time.Now()
		}
		a[CreatedAnnotation] = created.UTC().Format(time.RFC3339)
	}
	if opts.Source != "" {
		a[SourceAnnotation] = opts.Source
	}
	if opts.Revision != "" {
		a[RevisionAnnotation] = opts.Revision
	}
	return a
}

// Tag points newTag at the manifest src ("oci://host/repo:tag" or "...@sha256:<hex>") refers
// to, in the same repository, without copying blobs. It returns the manifest digest.
func (c *Client) Tag(ctx context.Context, src, newTag string) (string, error) {
	r, err := c.reference(src)
	if err != nil {
		return "", err
	}
	dst, err := name.NewTag(r.Context().String()+":"+newTag, c.nameOpts...)
	if err != nil {
		return "", fmt.Errorf("invalid tag %q: %w", newTag, err)
	}
	desc, err := c.puller.Get(ctx, r)
	if err != nil {
		return "", fmt.Errorf("fetch manifest %s: %w", src, explain(err))
	}
	pusher, err := c.pusher()
	if err != nil {
		return "", err
	}
	if err := pusher.Put(ctx, dst, rawManifest{body: desc.Manifest, mediaType: desc.MediaType}); err != nil {
		return "", fmt.Errorf("tag %s as %q: %w", src, newTag, explain(err))
	}
	return desc.Digest.String(), nil
}

// rawManifest is a manifest pushed byte for byte (remote.Taggable with a media type).
type rawManifest struct {
	body      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

func (m rawManifest) digest() string {
	sum := sha256.Sum256(m.body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fileLayer is a gzipped tarball in a temporary file whose digest and size were computed while
// writing it, so the upload reads it once. It implements partial.CompressedLayer.
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l *fileLayer) Digest() (v1.Hash, error)           { return l.digest, nil }
func (l *fileLayer) Size() (int64, error)               { return l.size, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }
func (l *fileLayer) MediaType() (types.MediaType, error) {
	return ContentMediaType, nil
}
func (l *fileLayer) remove() { _ = os.Remove(l.path) }

// buildLayer writes path (a directory, or a file packed alone under its base name) as a
// deterministic gzipped tarball to a temporary file.
func buildLayer(path string, ignore tarball.Filter) (_ *fileLayer, err error) {
	root, filter, err := layerRoot(path, ignore)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "gotk-oci-push-*.tar.gz")
	if err != nil {
		return nil, err
	}
	l := &fileLayer{path: f.Name()}
	defer func() {
		if err != nil {
			l.remove()
		}
	}()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	if err := tarball.Write(cw, root, filter); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	l.size = cw.n
	l.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	return l, nil
}

// layerRoot is the directory a layer is written from and the filter of what goes in: path
// itself with ignore, or, for a single file, its directory with only that file.
func layerRoot(path string, ignore tarball.Filter) (string, tarball.Filter, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	if fi.IsDir() {
		return path, ignore, nil
	}
	if !fi.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s is neither a directory nor a regular file", path)
	}
	base := filepath.Base(path)
	return filepath.Dir(path), func(rel string, d fs.DirEntry) bool {
		return rel == base && (ignore == nil || ignore(rel, d))
	}, nil
}

// Build writes the layer Push would upload for path (a directory filtered by ignore, or a
// single file) to w: `flux build artifact` and `flux diff artifact` use it, so a built
// artifact is byte for byte the one a push uploads.
func Build(w io.Writer, path string, ignore tarball.Filter) error {
	root, filter, err := layerRoot(path, ignore)
	if err != nil {
		return err
	}
	return tarball.Write(w, root, filter)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
