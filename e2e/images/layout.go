package images

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// refNameAnnotation holds an image's tag in an OCI layout's index.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout replaces dir with an OCI image layout holding img, tagged tag.
func WriteLayout(dir string, img v1.Image, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: tag})); err != nil {
		return fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	return nil
}

// ReadLayout returns the image in an OCI layout WriteLayout wrote, with its tag.
func ReadLayout(dir string) (v1.Image, string, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, "", fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	if len(m.Manifests) != 1 {
		return nil, "", fmt.Errorf("OCI layout %s holds %d images, want 1", dir, len(m.Manifests))
	}
	desc := m.Manifests[0]
	tag := desc.Annotations[refNameAnnotation]
	if tag == "" {
		return nil, "", fmt.Errorf("OCI layout %s: the image has no %s annotation (tag)", dir, refNameAnnotation)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return nil, "", fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	return img, tag, nil
}

// PushOptions configure Push and PushAll.
type PushOptions struct {
	// Insecure allows plain HTTP to registries other than loopback ones (which always may).
	Insecure bool
	// Remote are extra go-containerregistry options (transport, auth). Without an auth option
	// credentials come from the Docker config (~/.docker/config.json, credential helpers).
	Remote []remote.Option
}

// Pushed is one pushed image, repo:tag@digest.
type Pushed struct {
	Ref    name.Tag
	Digest v1.Hash
}

// String is the pushed reference, pinned to its digest.
func (p Pushed) String() string { return p.Ref.String() + "@" + p.Digest.String() }

// Push uploads the image of the OCI layout dir to repo (host[:port]/path), tagged with the
// layout's tag.
func Push(ctx context.Context, dir, repo string, opts PushOptions) (Pushed, error) {
	img, tag, err := ReadLayout(dir)
	if err != nil {
		return Pushed{}, err
	}
	var nameOpts []name.Option
	if opts.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.NewTag(repo+":"+tag, nameOpts...)
	if err != nil {
		return Pushed{}, fmt.Errorf("image reference %s:%s: %w", repo, tag, err)
	}
	ropts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts.Remote...)
	if err := remote.Write(ref, img, ropts...); err != nil {
		return Pushed{}, fmt.Errorf("push %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return Pushed{}, err
	}
	return Pushed{Ref: ref, Digest: digest}, nil
}

// PushAll pushes every layout under out (out/<name>/) to registry/<name>.
func PushAll(ctx context.Context, out, registry string, opts PushOptions) ([]Pushed, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, fmt.Errorf("read %s (run `make images` first): %w", out, err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no image layouts in %s (run `make images` first)", out)
	}
	sort.Strings(names)
	var pushed []Pushed
	for _, n := range names {
		p, err := Push(ctx, filepath.Join(out, n), registry+"/"+n, opts)
		if err != nil {
			return nil, err
		}
		pushed = append(pushed, p)
	}
	return pushed, nil
}
