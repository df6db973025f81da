package app

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/pkg/tarball"
)

func newDiffArtifactCommand(c *Command) *cobra.Command {
	o := &ociFlags{}
	var path string
	var ignore []string
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Diff Artifact",
		Long: `The diff artifact command computes the diff between the remote OCI artifact and a local directory or file.
It prints the differences and exits with code 1 when there are any.`,
		Example: `  # Check if local files differ from remote
  flux diff artifact oci://ghcr.io/stefanprodan/manifests/podinfo:6.2.0 --path=./kustomize`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("artifact URL is required")
			}
			changed, err := c.runDiffArtifact(cmd.Context(), args[0], path, ignore, o)
			if err != nil {
				return err
			}
			if changed {
				return &ExitError{Code: 1}
			}
			c.Log().Successf("no changes detected")
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&path, "path", "", "path to the directory where the Kubernetes manifests are located")
	fs.StringSliceVar(&ignore, "ignore-paths", artifactExcludes(), "set paths to ignore in .gitignore format")
	o.bind(fs)
	return cmd
}

// runDiffArtifact pulls the artifact and the artifact the local path would make, extracts
// both and prints a unified diff per differing file. It reports whether anything differs.
func (c *Command) runDiffArtifact(ctx context.Context, url, path string, ignore []string, o *ociFlags) (bool, error) {
	if _, err := parseArtifactURL(url); err != nil {
		return false, err
	}
	src, cleanup, err := c.artifactSource(path)
	if err != nil {
		return false, err
	}
	defer cleanup()
	cl, err := o.client()
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "flux-diff-artifact-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	remote, local := filepath.Join(tmp, "remote"), filepath.Join(tmp, "local")
	for _, d := range []string{remote, local} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return false, err
		}
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if _, err := cl.PullToDir(ctx, url, remote); err != nil {
		return false, err
	}
	var buf bytes.Buffer
	if err := buildArtifact(&buf, src, ignore); err != nil {
		return false, err
	}
	if err := tarball.Extract(&buf, local, tarball.ExtractOptions{}); err != nil {
		return false, err
	}
	return diffTrees(c, remote, local)
}

// diffTrees prints, in path order, each file that is only in the artifact (removed), only
// local (added) or different, with a unified diff of its content.
func diffTrees(c *Command, remote, local string) (bool, error) {
	a, err := treeFiles(remote)
	if err != nil {
		return false, err
	}
	b, err := treeFiles(local)
	if err != nil {
		return false, err
	}
	var paths []string
	for p := range a {
		paths = append(paths, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	changed := false
	for _, p := range paths {
		ra, inA := a[p]
		lb, inB := b[p]
		if inA && inB && ra == lb {
			continue
		}
		changed = true
		switch {
		case !inB:
			c.Log().Generatef("%s removed", p)
		case !inA:
			c.Log().Generatef("%s added", p)
		default:
			c.Log().Generatef("%s changed", p)
		}
		fmt.Fprint(c.Out, unifiedDiff(ra, lb, "remote/"+p, "local/"+p, 3))
	}
	return changed, nil
}

// treeFiles reads every regular file under root, by slash path.
func treeFiles(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[strings.ReplaceAll(rel, string(filepath.Separator), "/")] = string(data)
		return nil
	})
	return out, err
}
