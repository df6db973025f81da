package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/cli/pkg/uninstall"
)

// uninstallFlags are `flux uninstall`'s own flags.
type uninstallFlags struct {
	keepNamespace bool
	dryRun        bool
	silent        bool
}

func newUninstallCommand(c *Command) *cobra.Command {
	f := uninstallFlags{}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Uninstall Flux and its custom resource definitions",
		Long: `The uninstall command removes the Flux components and its custom resource definitions
from the cluster. It first removes the finalizers of every Flux object, so that nothing waits
for a controller that is gone; the objects themselves are deleted with their CRDs.`,
		Example: `  # Uninstall Flux components, its custom resources and namespace
  flux uninstall --namespace=flux-system

  # Uninstall Flux but keep the namespace
  flux uninstall --namespace=infra --keep-namespace=true`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.dryRun && !f.silent {
				yes, err := c.confirm("Are you sure you want to delete Flux and its custom resource definitions")
				if err != nil {
					return err
				}
				if !yes {
					return errors.New("aborting")
				}
			}
			return c.uninstall(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.keepNamespace, "keep-namespace", false, "skip namespace deletion")
	fs.BoolVar(&f.dryRun, "dry-run", false, "only print the objects that would be deleted")
	fs.BoolVarP(&f.silent, "silent", "s", false, "delete components without asking for confirmation")
	return cmd
}

// confirm asks question on stderr and reads the answer from stdin: only y or yes (any case)
// agree; an empty answer or end of input declines.
func (c *Command) confirm(question string) (bool, error) {
	fmt.Fprintf(c.Err, "%s? [y/N] ", question)
	if c.In == nil {
		fmt.Fprintln(c.Err)
		return false, nil
	}
	line, err := bufio.NewReader(c.In).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(c.Err)
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// uninstall removes the install in --namespace (see gotk.dev/cli/pkg/uninstall).
func (c *Command) uninstall(ctx context.Context, f uninstallFlags) error {
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	return uninstall.Run(ctx, kube, c.Log(), uninstall.Options{
		Namespace: c.Global.Namespace, KeepNamespace: f.keepNamespace, DryRun: f.dryRun, Timeout: c.Global.Timeout,
	})
}
