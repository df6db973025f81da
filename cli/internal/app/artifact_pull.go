package app

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newPullArtifactCommand(c *Command) *cobra.Command {
	o := &ociFlags{}
	var output string
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Pull artifact",
		Long: `The pull artifact command downloads and extracts the OCI artifact content to the given path.
The command can read the credentials from '~/.docker/config.json' but they can also be passed with --creds.`,
		Example: `  # Pull an OCI artifact created by flux from GHCR
  flux pull artifact oci://ghcr.io/org/manifests/app:v0.0.1 --output ./path/to/local/manifests`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runPullArtifact(cmd.Context(), args[0], output, o)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "path where the artifact content should be extracted.")
	o.bind(cmd.Flags())
	return cmd
}

func (c *Command) runPullArtifact(ctx context.Context, url, output string, o *ociFlags) error {
	ref, err := parseArtifactURL(url)
	if err != nil {
		return err
	}
	if output == "" {
		return fmt.Errorf("invalid output path %q: set --output to an existing directory", output)
	}
	if fi, err := os.Stat(output); err != nil || !fi.IsDir() {
		return fmt.Errorf("invalid output path %q: not an existing directory", output)
	}
	cl, err := o.client()
	if err != nil {
		return err
	}
	log := c.Log()
	log.Actionf("pulling artifact from %s", ref)
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	info, err := cl.PullToDir(ctx, url, output)
	if err != nil {
		return err
	}
	if info.Source != "" {
		log.Successf("source %s", info.Source)
	}
	if info.Revision != "" {
		log.Successf("revision %s", info.Revision)
	}
	log.Successf("digest %s", info.Digest)
	log.Successf("artifact content extracted to %s", output)
	return nil
}
