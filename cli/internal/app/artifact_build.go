package app

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/sourceignore"
	"gotk.dev/pkg/tarball"
)

// extendBuildDiff adds flux build artifact and flux diff artifact.
func extendBuildDiff(root *cobra.Command, c *Command) {
	parentCommand(root, "build", "Build a flux resource", "").AddCommand(newBuildArtifactCommand(c))
	parentCommand(root, "diff", "Diff a flux resource", "").AddCommand(newDiffArtifactCommand(c))
}

// artifactExcludes are the default --ignore-paths of build and diff artifact, as upstream:
// version control files and media.
func artifactExcludes() []string {
	return append(sourceignore.VCSPatterns(), sourceignore.MediaPatterns()...)
}

func newBuildArtifactCommand(c *Command) *cobra.Command {
	var path, output string
	var ignore []string
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Build artifact",
		Long: `The build artifact command creates a tgz file with the manifests
from the given directory or a single manifest file.`,
		Example: `  # Build the given manifests directory into an artifact
  flux build artifact --path ./path/to/local/manifests --output ./path/to/artifact.tgz

  # Build the given single manifest file into an artifact
  flux build artifact --path ./path/to/local/manifest.yaml --output ./path/to/artifact.tgz

  # List the files bundled in the artifact
  tar -ztvf ./path/to/artifact.tgz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, cleanup, err := c.artifactSource(path)
			if err != nil {
				return err
			}
			defer cleanup()
			c.Log().Actionf("building artifact from %s", path)
			var buf bytes.Buffer
			if err := buildArtifact(&buf, src, ignore); err != nil {
				return fmt.Errorf("building artifact failed, error: %w", err)
			}
			if err := os.WriteFile(output, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("building artifact failed, error: %w", err)
			}
			c.Log().Successf("artifact created at %s", output)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&path, "path", "p", "", "Path to the directory where the Kubernetes manifests are located.")
	fs.StringVarP(&output, "output", "o", "artifact.tgz", "Path to where the artifact tgz file should be written.")
	fs.StringSliceVar(&ignore, "ignore-paths", artifactExcludes(), "set paths to ignore in .gitignore format")
	return cmd
}

// artifactSource checks --path: an existing directory or file, or "-" for stdin (saved to a
// temporary file, removed by cleanup).
func (c *Command) artifactSource(path string) (string, func(), error) {
	nothing := func() {}
	if path == "" {
		return "", nothing, fmt.Errorf("invalid path %q", path)
	}
	if path == "-" {
		data, err := io.ReadAll(c.In)
		if err != nil {
			return "", nothing, err
		}
		f, err := os.CreateTemp("", "flux-artifact-*.yaml")
		if err != nil {
			return "", nothing, err
		}
		defer f.Close()
		if _, err := f.Write(bytes.TrimRight(data, "\r\n")); err != nil {
			return "", nothing, err
		}
		return f.Name(), func() { _ = os.Remove(f.Name()) }, nil
	}
	if _, err := os.Stat(path); err != nil {
		return "", nothing, fmt.Errorf("invalid path '%s', must point to an existing directory or file", path)
	}
	return path, nothing, nil
}

// buildArtifact writes the tarball `flux push artifact` would upload for src.
func buildArtifact(w io.Writer, src string, ignore []string) error {
	var filter tarball.Filter
	if fi, err := os.Stat(src); err == nil && fi.IsDir() {
		rules := strings.Join(ignore, "\n")
		if filter, err = sourceignore.NewFilter(src, &rules); err != nil {
			return err
		}
	}
	return oci.Build(w, src, filter)
}
