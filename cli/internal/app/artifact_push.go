package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/sourceignore"
)

// pushOptions are the flags of flux push artifact.
type pushOptions struct {
	ociFlags
	path, source, revision string
	annotations            []string
	ignorePaths            []string
	output                 string
	reproducible           bool
}

func newPushArtifactCommand(c *Command) *cobra.Command {
	o := &pushOptions{}
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Push artifact",
		Long: `The push artifact command creates a tarball from the given directory or the single file and uploads the artifact to an OCI repository.
The command can read the credentials from '~/.docker/config.json' but they can also be passed with --creds.`,
		Example: `  # Push manifests to GHCR using the short Git SHA as the OCI artifact tag
  echo $GITHUB_PAT | docker login ghcr.io --username flux --password-stdin
  flux push artifact oci://ghcr.io/org/config/app:$(git rev-parse --short HEAD) \
	--path="./path/to/local/manifests" \
	--source="$(git config --get remote.origin.url)" \
	--revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)"

  # Push and sign artifact with cosign
  digest_url=$(flux push artifact \
	oci://ghcr.io/org/config/app:$(git rev-parse --short HEAD) \
	--source="$(git config --get remote.origin.url)" \
	--revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)" \
	--path="./path/to/local/manifest.yaml" \
	--output json | \
	jq -r '. | .repository + "@" + .digest')
  cosign sign $digest_url`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runPushArtifact(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.path, "path", "", "path to the directory where the Kubernetes manifests are located")
	f.StringVar(&o.source, "source", "", "the source address, e.g. the Git URL")
	f.StringVar(&o.revision, "revision", "", "the source revision in the format '<branch|tag>@sha1:<commit-sha>'")
	f.StringSliceVarP(&o.annotations, "annotations", "a", nil, "Set custom OCI annotations in the format '<key>=<value>'")
	f.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore in .gitignore format")
	f.StringVarP(&o.output, "output", "o", "", "the format in which the artifact digest should be printed, can be 'json' or 'yaml'")
	f.BoolVar(&o.reproducible, "reproducible", false, "ensure reproducible image digests by setting the created timestamp to '1970-01-01T00:00:00Z'")
	o.bind(f)
	return cmd
}

// pushResult is what -o json|yaml prints, upstream's fields.
type pushResult struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
	URL        string `json:"url"`
}

func (c *Command) runPushArtifact(ctx context.Context, url string, o *pushOptions) error {
	ref, err := parseArtifactURL(url)
	if err != nil {
		return err
	}
	tag, ok := ref.(name.Tag)
	if !ok {
		return fmt.Errorf("invalid URL %q: push to a tag (oci://<domain>/<org>/<repo>:<tag>), not a digest", url)
	}
	switch {
	case o.source == "":
		return fmt.Errorf("--source is required")
	case o.revision == "":
		return fmt.Errorf("--revision is required")
	case o.path == "":
		return fmt.Errorf("invalid path %q", o.path)
	case o.output != "" && o.output != "json" && o.output != "yaml":
		return fmt.Errorf("invalid --output %q: can be 'json' or 'yaml'", o.output)
	}
	fi, err := os.Stat(o.path)
	if err != nil {
		return fmt.Errorf("invalid path %q: %w", o.path, err)
	}
	annotations := map[string]string{}
	for _, a := range o.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return fmt.Errorf("invalid annotation %q: must be in the format <key>=<value>", a)
		}
		annotations[k] = v
	}
	opts := oci.PushOptions{Source: o.source, Revision: o.revision, Annotations: annotations}
	if o.reproducible {
		opts.Created = time.Unix(0, 0)
	}
	if fi.IsDir() {
		ignore := strings.Join(o.ignorePaths, "\n")
		if opts.Ignore, err = sourceignore.NewFilter(o.path, &ignore); err != nil {
			return err
		}
	}
	cl, err := o.client()
	if err != nil {
		return err
	}
	log := c.Log()
	if o.output == "" {
		log.Actionf("pushing artifact to %s", tag)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	digest, err := cl.Push(ctx, url, o.path, opts)
	if err != nil {
		return err
	}
	res := pushResult{Repository: tag.Context().Name(), Tag: tag.TagStr(), Digest: digest,
		URL: "oci://" + tag.Context().Name() + ":" + tag.TagStr() + "@" + digest}
	switch o.output {
	case "json":
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(res)
		if err != nil {
			return err
		}
		_, err = c.Out.Write(b)
		return err
	}
	log.Successf("artifact successfully pushed to %s@%s", tag.Context().Name(), digest)
	return nil
}
