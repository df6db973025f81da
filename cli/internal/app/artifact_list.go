package app

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"gotk.dev/pkg/oci"
)

// listArtifactsOptions are the flags of flux list artifacts.
type listArtifactsOptions struct {
	ociFlags
	semverFilter, regexFilter, output string
}

func newListArtifactsCommand(c *Command) *cobra.Command {
	o := &listArtifactsOptions{}
	cmd := &cobra.Command{
		Use:     "artifacts",
		Aliases: []string{"artifact"},
		Short:   "list artifacts",
		Long: `The list command fetches the tags and annotations from the given OCI repository.
The command can read the credentials from '~/.docker/config.json' but they can also be passed with --creds.`,
		Example: `  # List the artifacts of an OCI repository
  flux list artifacts oci://ghcr.io/org/manifests/app

  # List the artifacts whose tag matches a semver range
  flux list artifacts oci://ghcr.io/org/manifests/app --filter-semver=">=1.0.0"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runListArtifacts(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.semverFilter, "filter-semver", "", "filter tags returned from the oci repository using semver")
	cmd.Flags().StringVar(&o.regexFilter, "filter-regex", "", "filter tags returned from the oci repository using regex")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "the format in which the artifacts should be printed, can be 'json' or 'yaml'")
	o.bind(cmd.Flags())
	return cmd
}

// artifactMetadata is one listed artifact in -o json|yaml, with upstream's field names.
type artifactMetadata struct {
	Created  string `json:"created,omitempty"`
	Source   string `json:"source_url,omitempty"`
	Revision string `json:"source_revision,omitempty"`
	Digest   string `json:"digest"`
	URL      string `json:"url"`
}

func (c *Command) runListArtifacts(ctx context.Context, url string, o *listArtifactsOptions) error {
	if _, err := parseArtifactURL(url); err != nil {
		return err
	}
	repo, err := oci.ParseURL(url)
	if err != nil {
		return err
	}
	if o.output != "" && o.output != "json" && o.output != "yaml" {
		return fmt.Errorf("invalid --output %q: can be 'json' or 'yaml'", o.output)
	}
	keep, order, err := tagFilters(o.regexFilter, o.semverFilter)
	if err != nil {
		return err
	}
	cl, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	infos, err := cl.List(ctx, url)
	if err != nil {
		return err
	}
	infos = slices.DeleteFunc(infos, func(a oci.ArtifactInfo) bool { return !keep(a.Tag) })
	if order != nil {
		slices.SortStableFunc(infos, func(a, b oci.ArtifactInfo) int { return order(a.Tag, b.Tag) })
	}
	metas := make([]artifactMetadata, 0, len(infos))
	for _, a := range infos {
		metas = append(metas, artifactMetadata{Created: a.Created, Source: a.Source, Revision: a.Revision,
			Digest: a.Digest, URL: repo + ":" + a.Tag})
	}
	switch o.output {
	case "json":
		b, err := json.MarshalIndent(metas, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(metas)
		if err != nil {
			return err
		}
		_, err = c.Out.Write(b)
		return err
	}
	rows := make([][]string, 0, len(metas))
	for _, m := range metas {
		rows = append(rows, []string{m.URL, m.Digest, m.Source, m.Revision})
	}
	return writeTabTable(c.Out, []string{"artifact", "digest", "source", "revision"}, rows)
}

// tagFilters returns which tags to keep (--filter-regex, --filter-semver) and, with a semver
// filter, the order to print them in: highest version first.
func tagFilters(regex, semverRange string) (keep func(string) bool, order func(a, b string) int, err error) {
	var re *regexp.Regexp
	if regex != "" {
		if re, err = regexp.Compile(regex); err != nil {
			return nil, nil, fmt.Errorf("invalid --filter-regex %q: %w", regex, err)
		}
	}
	var constraint *semver.Constraints
	if semverRange != "" {
		if constraint, err = semver.NewConstraint(semverRange); err != nil {
			return nil, nil, fmt.Errorf("invalid --filter-semver %q: %w", semverRange, err)
		}
		order = func(a, b string) int {
			va, _ := semver.NewVersion(a)
			vb, _ := semver.NewVersion(b)
			if c := vb.Compare(va); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		}
	}
	keep = func(tag string) bool {
		if re != nil && !re.MatchString(tag) {
			return false
		}
		if constraint != nil {
			v, err := semver.NewVersion(tag)
			return err == nil && constraint.Check(v)
		}
		return true
	}
	return keep, order, nil
}
