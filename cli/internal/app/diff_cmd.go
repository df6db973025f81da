package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/cli/internal/fluxdiff"
)

// errDiffDetected ends a diff that found changes (exit code 1).
var errDiffDetected = errors.New("identified at least one change, exiting with non-zero exit code")

func newDiffCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Diff a flux resource",
		Long:  "The diff command is used to do a server-side dry-run on flux resources, then prints the diff.",
	}
	o := &ksBuildOptions{}
	ks := &cobra.Command{
		Use:     "kustomization [name]",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Diff Kustomization",
		Long: `The diff command does a build, then it performs a server-side dry-run and outputs the diff.
Exit status: 0 No differences were found. 1 Differences were found. >1 diff failed with an error.`,
		Example: `  # Preview local changes as they were applied on the cluster
  flux diff kustomization my-app --path ./path/to/local/manifests

  # Preview using a local flux kustomization file
  flux diff kustomization my-app --path ./path/to/local/manifests \
	--kustomization-file ./path/to/local/my-app.yaml

  # Exclude files by providing a comma separated list of entries that follow the .gitignore pattern format.
  flux diff kustomization my-app --path ./path/to/local/manifests \
	--kustomization-file ./path/to/local/my-app.yaml \
	--ignore-paths "/to_ignore/**/*.yaml,ignore.yaml"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			changed, err := c.runDiffKustomization(cmd.Context(), args[0], o)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			if changed {
				c.Log().Warningf("%s", errDiffDetected)
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	bindKsBuildFlags(ks.Flags(), o)
	cmd.AddCommand(ks, newDiffHelmReleaseCommand(c))
	return cmd
}

// runDiffKustomization builds the local directory, dry-run applies the result as
// kustomize-controller and prints what would change: "✚ X created", "► X drifted" with a
// unified diff, and, when the Kustomization prunes, "► X deleted" for objects of its
// inventory the build no longer has. It reports whether anything would change.
func (c *Command) runDiffKustomization(ctx context.Context, name string, o *ksBuildOptions) (bool, error) {
	kube, _, err := c.connect(ctx)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	b, err := buildKustomization(ctx, kube.Client, c.Global.Namespace, name, o)
	if err != nil {
		return false, err
	}
	changes, diffErr := fluxdiff.Compute(ctx, kube.Client, fluxdiff.KustomizationRequest(b.kustomization, b.objects))
	return c.printChanges(changes, diffErr)
}

// printChanges prints what would change as flux diff does: "✚ X created", "► X drifted"
// with a unified diff, "► X deleted". It reports whether anything would change.
func (c *Command) printChanges(changes []fluxdiff.Change, diffErr error) (bool, error) {
	var out strings.Builder
	for _, ch := range changes {
		switch ch.Action {
		case fluxdiff.Created:
			fmt.Fprintf(&out, "✚ %s created\n", ch.Object)
		case fluxdiff.Drifted:
			d, err := changeDiff(ch)
			if err != nil {
				return true, fmt.Errorf("%s: %w", ch.Object, err)
			}
			fmt.Fprintf(&out, "► %s drifted\n%s\n", ch.Object, d)
		case fluxdiff.Deleted:
			fmt.Fprintf(&out, "► %s deleted\n", ch.Object)
		}
	}
	if _, err := c.Out.Write([]byte(out.String())); err != nil {
		return len(changes) > 0, err
	}
	return len(changes) > 0, diffErr
}
