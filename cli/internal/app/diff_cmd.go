package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/ssa"
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
	m := ssa.NewManager(kube.Client, ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group})
	entries, diffErr := m.Diff(ctx, b.objects, ssa.ApplyOptions{IgnoreRules: diffIgnoreRules(b.kustomization.Spec.Ignore)})
	var out strings.Builder
	changed := false
	for _, e := range entries {
		switch e.Action {
		case ssa.Created:
			changed = true
			fmt.Fprintf(&out, "✚ %s created\n", e.ObjMetadata)
		case ssa.Configured:
			if e.Live == nil || e.Merged == nil {
				continue
			}
			d, err := objectDiff(e.Live, e.Merged)
			if err != nil {
				return changed, fmt.Errorf("%s: %w", e.ObjMetadata, err)
			}
			if d == "" {
				continue // only fields the diff leaves out (managedFields, generation) moved
			}
			changed = true
			fmt.Fprintf(&out, "► %s drifted\n%s\n", e.ObjMetadata, d)
		}
	}
	if ks := b.kustomization; ks.Spec.Prune && ks.Status.Inventory != nil && diffErr == nil {
		applied := &inventory.Inventory{}
		for _, e := range ks.Status.Inventory.Entries {
			applied.Entries = append(applied.Entries, inventory.Entry(e))
		}
		for _, stale := range inventory.Diff(applied, inventory.New(b.objects)) {
			changed = true
			fmt.Fprintf(&out, "► %s deleted\n", stale)
		}
	}
	if _, err := c.Out.Write([]byte(out.String())); err != nil {
		return changed, err
	}
	if diffErr != nil {
		return changed, fmt.Errorf("server-side dry-run failed: %w", diffErr)
	}
	return changed, nil
}

func diffIgnoreRules(rules []kustomizev1.IgnoreRule) []ssa.IgnoreRule {
	out := make([]ssa.IgnoreRule, 0, len(rules))
	for _, r := range rules {
		out = append(out, ssa.IgnoreRule{Paths: r.Paths, Target: r.Target})
	}
	return out
}
