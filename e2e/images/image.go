package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User is the image's user: nobody, matching the Deployments' runAsUser.
const User = "65534:65534"

// BinDir is where the controller binary lives in the image.
const BinDir = "/usr/local/bin"

// OCI label and annotation keys the images carry.
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelTitle    = "org.opencontainers.image.title"
	LabelCreated  = "org.opencontainers.image.created"
)

// file is one entry of a layer.
type file struct {
	name string // absolute path
	mode int64
	data []byte // nil for directories
}

// NewImage assembles the image of controller name from its binary: a base layer (CA
// certificates, passwd/group entries for 65534, a world-writable /tmp) shared by every
// controller's image, and a layer with the binary, which is the entrypoint.
func NewImage(name, binary string, caCerts []byte, m Metadata, arch string) (v1.Image, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	base, err := newLayer(m.Created, []file{
		{name: "/etc", mode: 0o755},
		{name: "/etc/group", mode: 0o644, data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{name: "/etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")},
		{name: "/etc/ssl", mode: 0o755},
		{name: "/etc/ssl/certs", mode: 0o755},
		{name: "/etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caCerts},
		{name: "/tmp", mode: 0o1777},
	})
	if err != nil {
		return nil, err
	}
	app, err := newLayer(m.Created, []file{
		{name: "/usr", mode: 0o755},
		{name: "/usr/local", mode: 0o755},
		{name: BinDir, mode: 0o755},
		{name: path.Join(BinDir, name), mode: 0o755, data: bin},
	})
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: m.Created.UTC()}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "gotk images: CA certificates, users, /tmp"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "gotk images: " + path.Join(BinDir, name)}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", arch, created
	labels := map[string]string{
		LabelVersion:  m.Version,
		LabelRevision: m.Revision,
		LabelSource:   m.Source,
		LabelTitle:    name,
		LabelCreated:  created.Format(time.RFC3339),
	}
	cf.Config = v1.Config{
		Entrypoint: []string{path.Join(BinDir, name)},
		User:       User,
		WorkingDir: "/",
		Env:        []string{"PATH=" + BinDir + ":/usr/bin:/bin"},
		Labels:     labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	annotated, ok := mutate.Annotations(img, labels).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("annotating the manifest of %s", name)
	}
	return annotated, nil
}

// newLayer packs files into a gzip-compressed OCI layer. Owners are root, times are created,
// and the entries keep the given order (parents first), so equal input gives an equal digest.
func newLayer(created time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:    f.name[1:], // layer paths are relative to the root
			Mode:    f.mode,
			ModTime: created.UTC(),
			Format:  tar.FormatPAX,
		}
		if f.data == nil {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
