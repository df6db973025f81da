package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"gotk.dev/internal/testing/workspace"
)

// Binaries builds controller executables from this repository with `go build`, each at most
// once per Binaries value. Share one across the tests of a package (create it in TestMain,
// Remove it after m.Run) so a `go test` process links every controller once, not once per
// test; an Env without one builds into its own directory.
type Binaries struct {
	dir     string
	created bool // dir was made by NewBinaries and is removed by Remove

	buildMu sync.Mutex // one `go build` at a time: the machine may have two cores
	mu      sync.Mutex
	builds  map[string]*build
}

type build struct {
	done chan struct{}
	path string
	err  error
}

// BuildError is a controller that `go build` could not compile; callers may skip work that
// needs it instead of failing (e.g. a controller still being written).
type BuildError struct {
	Controller, Package string
	// Output is the tail of the compiler's output.
	Output string
	Err    error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("go build %s (%s): %v:\n%s", e.Package, e.Controller, e.Err, e.Output)
}

func (e *BuildError) Unwrap() error { return e.Err }

// NewBinaries returns a build cache writing into dir; an empty dir means a new temporary
// directory that Remove deletes.
func NewBinaries(dir string) *Binaries {
	return &Binaries{dir: dir, builds: map[string]*build{}}
}

// Dir is where binaries are written (empty until the first build when NewBinaries got "").
func (b *Binaries) Dir() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dir
}

// Path returns the executable of the named controller, building it on first use.
func (b *Binaries) Path(ctx context.Context, name string) (string, error) {
	spec, err := LookupController(name)
	if err != nil {
		return "", err
	}
	return b.path(ctx, spec)
}

// fluxCLI is the flux command line, built like a controller (journeys run it the way users
// do: `flux create tenant --export`, `flux create kustomization --export`).
var fluxCLI = ControllerSpec{Name: "flux", Package: "./cli/cmd/flux"}

// Flux returns the flux CLI executable, building it on first use.
func (b *Binaries) Flux(ctx context.Context) (string, error) { return b.path(ctx, fluxCLI) }

// FluxVersion returns a flux CLI executable that reports version (e.g. "2.7.1") and installs
// controller images tagged with it, built on first use the way `make build VERSION=...`
// does. Journeys that upgrade Flux run two of them against one cluster.
func (b *Binaries) FluxVersion(ctx context.Context, version string) (string, error) {
	if version == "" || strings.ContainsAny(version, " \t\n'\"/") {
		return "", fmt.Errorf("flux version %q: want a version such as 2.7.1", version)
	}
	spec := fluxCLI
	spec.Name = "flux-" + version
	spec.ldflags = "-X gotk.dev/cli/internal/app.Version=" + strings.TrimPrefix(version, "v")
	return b.path(ctx, spec)
}

func (b *Binaries) path(ctx context.Context, spec ControllerSpec) (string, error) {
	name := spec.Name
	b.mu.Lock()
	if bl, ok := b.builds[name]; ok {
		b.mu.Unlock()
		select {
		case <-bl.done:
			return bl.path, bl.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	bl := &build{done: make(chan struct{})}
	b.builds[name] = bl
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "gotk-e2e-bin-")
		if err != nil {
			b.mu.Unlock()
			bl.err = err
			close(bl.done)
			return "", err
		}
		b.dir, b.created = dir, true
	}
	dir := b.dir
	b.mu.Unlock()

	bl.path, bl.err = b.goBuild(ctx, spec, dir)
	if bl.err != nil && ctx.Err() != nil {
		// A cancelled build says nothing about the code: let the next caller retry.
		b.mu.Lock()
		delete(b.builds, name)
		b.mu.Unlock()
	}
	close(bl.done)
	return bl.path, bl.err
}

func (b *Binaries) goBuild(ctx context.Context, spec ControllerSpec, dir string) (string, error) {
	b.buildMu.Lock()
	defer b.buildMu.Unlock()
	root, err := workspace.Root()
	if err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, spec.Name)
	// The tags of `make build` and the release images: measure what is deployed.
	args := []string{"build", "-tags", workspace.BuildTags, "-o", out}
	if spec.ldflags != "" {
		args = append(args, "-ldflags", spec.ldflags)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, spec.Package)...)
	cmd.Dir = root
	// Build in the workspace like `make build`, even when the test itself runs with
	// GOWORK=off (e.g. from a module's `go mod tidy` check).
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	if os.Getenv("GOTOOLCHAIN") == "" {
		cmd.Env = append(cmd.Env, "GOTOOLCHAIN=local")
	}
	if output, err := cmd.CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(output)), "\n")
		if len(lines) > 30 {
			lines = append(lines[:30], fmt.Sprintf("... (%d more lines)", len(lines)-30))
		}
		return "", &BuildError{Controller: spec.Name, Package: spec.Package, Output: strings.Join(lines, "\n"), Err: err}
	}
	return out, nil
}

// Remove deletes the directory NewBinaries("") created. Binaries in a directory the caller
// chose are left alone.
func (b *Binaries) Remove() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.created {
		return nil
	}
	b.created = false
	return os.RemoveAll(b.dir)
}
