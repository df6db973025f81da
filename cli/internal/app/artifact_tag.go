package app

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
)

func newTagArtifactCommand(c *Command) *cobra.Command {
	o := &ociFlags{}
	var tags []string
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Tag artifact",
		Long: `The tag artifact command creates tags for the given OCI artifact.
The command can read the credentials from '~/.docker/config.json' but they can also be passed with --creds.`,
		Example: `  # Tag an artifact version as latest
  flux tag artifact oci://ghcr.io/org/manifests/app:v0.0.1 --tag latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runTagArtifact(cmd.Context(), args[0], tags, o)
		},
	}
	cmd.Flags().StringSliceVar(&tags, "tag", nil, "tag name")
	o.bind(cmd.Flags())
	return cmd
}

func (c *Command) runTagArtifact(ctx context.Context, url string, tags []string, o *ociFlags) error {
	ref, err := parseArtifactURL(url)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return errors.New("--tag is required")
	}
	cl, err := o.client()
	if err != nil {
		return err
	}
	log := c.Log()
	log.Actionf("tagging artifact")
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	for _, t := range tags {
		if _, err := cl.Tag(ctx, url, t); err != nil {
			return err
		}
		log.Successf("artifact tagged as %s:%s", ref.Context().Name(), t)
	}
	return nil
}
