package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"gotk.dev/pkg/oci"
)

// OCIURL is the oci:// URL of repo on the Env's registry, for OCIRepository.spec.url (with
// spec.insecure: true: the registry speaks plain HTTP).
func (e *Env) OCIURL(repo string) string { return e.Registry.URL(repo) }

// PushArtifact packs the local directory dir as a Flux artifact, pushes it to repo:tag on the
// Env's registry and returns the manifest digest ("sha256:<hex>"). source and revision become
// the org.opencontainers.image.source/revision annotations (either may be empty).
func (e *Env) PushArtifact(ctx context.Context, repo, tag, dir, source, revision string) (string, error) {
	c, err := oci.NewClient(oci.ClientOptions{Insecure: true, UserAgent: "gotk-e2e"})
	if err != nil {
		return "", err
	}
	ref := fmt.Sprintf("%s:%s", e.OCIURL(repo), tag)
	digest, err := c.Push(ctx, ref, dir, oci.PushOptions{Source: source, Revision: revision})
	if err != nil {
		return "", fmt.Errorf("push %s to %s: %w", dir, ref, err)
	}
	return digest, nil
}

// PushFiles writes files (slash-separated path -> content) to a temporary directory and
// pushes it like PushArtifact.
func (e *Env) PushFiles(ctx context.Context, repo, tag string, files map[string]string) (string, error) {
	dir, err := os.MkdirTemp(e.Dir, "push-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := WriteTree(dir, files); err != nil {
		return "", err
	}
	return e.PushArtifact(ctx, repo, tag, dir, "", "")
}

// WriteTree writes files (slash-separated path -> content) under dir, creating directories.
// Paths that would leave dir are refused.
func WriteTree(dir string, files map[string]string) error {
	for p, content := range files {
		local := filepath.FromSlash(p)
		if !filepath.IsLocal(local) {
			return fmt.Errorf("write tree: %q is not a relative path inside the tree", p)
		}
		full := filepath.Join(dir, local)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
