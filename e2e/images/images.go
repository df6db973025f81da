// Package images builds one container image per controller without a Docker daemon: a
// static Go binary (CGO_ENABLED=0) on an empty base with CA certificates, run as the
// unprivileged user 65534. Images are written as OCI image layouts (bin/images/<name>/) and
// pushed from there to any registry. `make images` and `make images-push` drive it through
// ../cmd/images; it lives in the e2e module, next to the local cluster and test servers,
// because it is development and release tooling, not part of any shipped module.
//
// Images are reproducible: layers hold fixed owners and the given creation time, so the
// same commit builds the same digests.
package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"gotk.dev/internal/testing/workspace"
)

// DefaultCACerts is where Debian (and the build host) keep the CA bundle; the images carry
// it at the same path, where Go's crypto/x509 looks first on Linux.
const DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"

// AllControllers are the components an image can exist for, in build order: the
// controllers and the web UI ("ui", `flux install --components-extra=ui`).
func AllControllers() []string {
	return []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller",
		"image-reflector-controller", "image-automation-controller", "ui"}
}

// mainPackages are the components whose main package is not <name>/cmd: the web UI is a
// command of the CLI module, which holds its server.
var mainPackages = map[string]string{"ui": "cli/cmd/flux-ui"}

// mainPackage is the directory of name's main package, relative to the repository root.
func mainPackage(name string) string {
	if p, ok := mainPackages[name]; ok {
		return p
	}
	return name + "/cmd"
}

// Controllers lists the controllers under root whose cmd/ directory holds a main package
// (Go files): controllers still being written have an empty cmd/ and get no image yet.
func Controllers(root string) ([]string, error) {
	var out []string
	for _, name := range AllControllers() {
		files, err := filepath.Glob(filepath.Join(root, mainPackage(name), "*.go"))
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(files, func(f string) bool { return !strings.HasSuffix(f, "_test.go") }) {
			out = append(out, name)
		}
	}
	return out, nil
}

// Metadata describes a build; it becomes the images' OCI labels and creation time.
type Metadata struct {
	// Version is the image tag and org.opencontainers.image.version ("v1.2.3").
	Version string
	// Revision is the source commit, org.opencontainers.image.revision.
	Revision string
	// Source is the repository URL, org.opencontainers.image.source.
	Source string
	// Created is the images' creation time (use the commit time for reproducible builds).
	Created time.Time
}

// Options configure Build.
type Options struct {
	// Root is the repository root (the directory holding go.work).
	Root string
	// Out receives one OCI layout per controller: Out/<controller>/.
	Out string
	// Controllers to build; empty means Controllers(Root).
	Controllers []string
	Metadata
	// Arch is the GOARCH of the binaries and images; empty means the host's.
	Arch string
	// CACerts is the CA bundle to include; empty means DefaultCACerts.
	CACerts string
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// Result is one built image.
type Result struct {
	Name   string
	Dir    string
	Digest v1.Hash
}

// Build compiles each controller and writes its image as an OCI layout under opts.Out.
func Build(ctx context.Context, opts Options) ([]Result, error) {
	if opts.Root == "" || opts.Out == "" {
		return nil, errors.New("images: Options.Root and Options.Out are required")
	}
	if opts.Version == "" {
		return nil, errors.New("images: a version (the image tag) is required")
	}
	if opts.Arch == "" {
		opts.Arch = runtime.GOARCH
	}
	if opts.CACerts == "" {
		opts.CACerts = DefaultCACerts
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	names := opts.Controllers
	if len(names) == 0 {
		var err error
		if names, err = Controllers(opts.Root); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("images: no controller under %s has a main package in cmd/", opts.Root)
		}
	}
	certs, err := os.ReadFile(opts.CACerts)
	if err != nil {
		return nil, fmt.Errorf("images: read the CA bundle: %w", err)
	}
	tmp, err := os.MkdirTemp("", "gotk-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	var results []Result
	for _, name := range names {
		if !slices.Contains(AllControllers(), name) {
			return nil, fmt.Errorf("images: unknown controller %q: valid are %s", name, strings.Join(AllControllers(), ", "))
		}
		start := time.Now()
		bin := filepath.Join(tmp, name)
		if err := goBuild(ctx, opts.Root, name, opts.Arch, bin); err != nil {
			return nil, err
		}
		img, err := NewImage(name, bin, certs, opts.Metadata, opts.Arch)
		if err != nil {
			return nil, fmt.Errorf("images: %s: %w", name, err)
		}
		dir := filepath.Join(opts.Out, name)
		if err := WriteLayout(dir, img, opts.Version); err != nil {
			return nil, fmt.Errorf("images: %s: %w", name, err)
		}
		digest, err := img.Digest()
		if err != nil {
			return nil, err
		}
		opts.Logf("built %s:%s %s in %s -> %s", name, opts.Version, digest, time.Since(start).Round(time.Millisecond), dir)
		results = append(results, Result{Name: name, Dir: dir, Digest: digest})
	}
	return results, nil
}

// goBuild compiles name's main package into a static, stripped, reproducible Linux binary,
// with the build tags of every binary of the repository (workspace.BuildTags).
func goBuild(ctx context.Context, root, name, arch, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", workspace.BuildTags, "-ldflags=-s -w -buildid=", "-o", out, "./"+mainPackage(name))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("images: go build ./%s: %w\n%s", mainPackage(name), err, b)
	}
	return nil
}
