package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender/values"
)

func newDebugCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "debug",
		Short: "Debug a flux resource",
		Long:  "The debug command can be used to troubleshoot failing resource reconciliations.",
	}
	var showStatus, showValues bool
	hr := &cobra.Command{
		Use:     "helmrelease [name]",
		Aliases: []string{"hr"},
		Short:   "Debug a HelmRelease resource",
		Long: `The debug helmrelease command can be used to troubleshoot failing Helm release reconciliations.
WARNING: This command will print sensitive information if Kubernetes Secrets are referenced in the HelmRelease .spec.valuesFrom field.`,
		Example: `  # Print the status of a Helm release
  flux debug hr podinfo --show-status

  # Export the final values of a Helm release composed from referred ConfigMaps and Secrets
  flux debug hr podinfo --show-values > values.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !showStatus && !showValues {
				return errors.New("either --show-status or --show-values must be set")
			}
			return c.runDebugHelmRelease(cmd.Context(), args[0], showStatus, showValues)
		},
	}
	hr.Flags().BoolVar(&showStatus, "show-status", false, "print the status of the Helm release")
	hr.Flags().BoolVar(&showValues, "show-values", false, "print the final values of the Helm release")
	cmd.AddCommand(markKind(hr, Kind{Kind: "HelmRelease"}))
	return cmd
}

// runDebugHelmRelease prints the status of a HelmRelease and the values helm-controller
// composes for it (spec.valuesFrom then spec.values, the same code as the controller's).
func (c *Command) runDebugHelmRelease(ctx context.Context, name string, showStatus, showValues bool) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	hr, err := getHelmRelease(ctx, kube, c.Global.Namespace, name)
	if err != nil {
		return err
	}
	if showStatus {
		out, err := yaml.Marshal(hr.Status)
		if err != nil {
			return err
		}
		fmt.Fprint(c.Out, string(out))
		if showValues {
			fmt.Fprintln(c.Out, "---")
		}
	}
	if showValues {
		vals, err := values.Compose(ctx, values.ClientGetter(kube.Client, hr.Namespace), hr.Namespace, hr.Spec.ValuesFrom, hr.GetValues())
		if err != nil {
			return fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
		}
		out, err := yaml.Marshal(vals)
		if err != nil {
			return err
		}
		fmt.Fprint(c.Out, string(out))
	}
	return nil
}

// getHelmRelease reads a HelmRelease as its Go type.
func getHelmRelease(ctx context.Context, kube *Kube, namespace, name string) (*helmv2.HelmRelease, error) {
	k, _ := LookupKind("", "HelmRelease")
	u, err := getObject(ctx, kube, k, namespace, name)
	if err != nil {
		return nil, err
	}
	hr := &helmv2.HelmRelease{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, hr); err != nil {
		return nil, fmt.Errorf("HelmRelease %s/%s: %w", namespace, name, err)
	}
	return hr, nil
}
