package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// extendDebug adds flux debug kustomization.
func extendDebug(root *cobra.Command, c *Command) {
	debug := parentCommand(root, "debug", "Debug a flux resource",
		"The debug command can be used to troubleshoot failing resource reconciliations.")
	var showStatus, showVars bool
	ks := &cobra.Command{
		Use:     "kustomization [name]",
		Aliases: []string{"ks"},
		Short:   "Debug a Flux Kustomization resource",
		Long: `The debug kustomization command can be used to troubleshoot failing Flux Kustomization reconciliations.
WARNING: This command will print sensitive information if Kubernetes Secrets are referenced in the Kustomization .spec.postBuild.substituteFrom field.`,
		Example: `  # Print the status of a Flux Kustomization
  flux debug ks podinfo --show-status

  # Export the final variables used for post-build substitutions composed from referred ConfigMaps and Secrets
  flux debug ks podinfo --show-vars > vars.env`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if showStatus == showVars {
				return errors.New("either --show-status or --show-vars must be set")
			}
			return c.runDebugKustomization(cmd.Context(), args[0], showStatus)
		},
	}
	ks.Flags().BoolVar(&showStatus, "show-status", false, "print the status of the Flux Kustomization")
	ks.Flags().BoolVar(&showVars, "show-vars", false, "print the final vars of the Flux Kustomization in dot env format")
	debug.AddCommand(markKind(ks, Kind{Kind: "Kustomization"}))
}

// runDebugKustomization prints the Kustomization's status as YAML, or the variables its
// post-build substitution uses (substituteFrom, then substitute, as the controller merges
// them) as NAME=value lines sorted by name.
func (c *Command) runDebugKustomization(ctx context.Context, name string, showStatus bool) error {
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	ks := &kustomizev1.Kustomization{}
	if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: c.Global.Namespace, Name: name}, ks); err != nil {
		k, _ := LookupKind("", "Kustomization")
		return objectError(k, c.Global.Namespace, name, err)
	}
	if showStatus {
		out, err := yaml.Marshal(ks.Status)
		if err != nil {
			return err
		}
		_, err = c.Out.Write(out)
		return err
	}
	if ks.Spec.PostBuild == nil {
		return nil
	}
	vars, err := substituteVars(ctx, kube.Client, ks, false)
	if err != nil {
		return fmt.Errorf("Kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		// One variable per line: a value's line breaks would start a new entry.
		fmt.Fprintf(&b, "%s=%s\n", k, strings.ReplaceAll(vars[k], "\n", ""))
	}
	_, err = fmt.Fprint(c.Out, b.String())
	return err
}
