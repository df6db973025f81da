package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

func newBuildCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build a flux resource",
		Long:  "The build command is used to build flux resources.",
	}
	o := &ksBuildOptions{}
	ks := &cobra.Command{
		Use:     "kustomization [name]",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Build Kustomization",
		Long: `The build command queries the Kubernetes API and fetches the specified Flux Kustomization.
It then uses the fetched in cluster flux kustomization to perform needed transformation on the local kustomization.yaml
pointed at by --path. The local kustomization.yaml is generated if it does not exist. Finally it builds the overlays
using the local kustomization.yaml, and writes the resulting multi-doc YAML to stdout.

It is possible to specify a Flux kustomization file using --kustomization-file.`,
		Example: `  # Build the local manifests as they were built on the cluster
  flux build kustomization my-app --path ./path/to/local/manifests

  # Build using a local flux kustomization file
  flux build kustomization my-app --path ./path/to/local/manifests --kustomization-file ./path/to/local/my-app.yaml

  # Build in dry-run mode without connecting to the cluster.
  # Note that the default values for dry-run mode are: substituteFrom is ignored
  flux build kustomization my-app --path ./path/to/local/manifests \
	--kustomization-file ./path/to/local/my-app.yaml \
	--dry-run

  # Exclude files by providing a comma separated list of entries that follow the .gitignore pattern format.
  flux build kustomization my-app --path ./path/to/local/manifests --ignore-paths "/to_ignore/**/*.yaml"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runBuildKustomization(cmd.Context(), args[0], o)
		},
	}
	bindKsBuildFlags(ks.Flags(), o)
	ks.Flags().BoolVar(&o.dryRun, "dry-run", false, "Dry run mode: build without contacting the cluster (requires --kustomization-file; substituteFrom is ignored).")
	cmd.AddCommand(ks)
	return cmd
}

// bindKsBuildFlags registers the flags build and diff share.
func bindKsBuildFlags(fs *pflag.FlagSet, o *ksBuildOptions) {
	fs.StringVar(&o.path, "path", "", "Path to the manifests location.")
	fs.StringVar(&o.kustomizationFile, "kustomization-file", "", "Path to the Flux Kustomization YAML file.")
	fs.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "set paths to ignore in .gitignore format")
	fs.BoolVar(&o.strictSubstitute, "strict-substitute", false,
		"When enabled, the post build substitutions will fail if a var without a default value is declared in files but is missing from the input vars.")
}

func (c *Command) runBuildKustomization(ctx context.Context, name string, o *ksBuildOptions) error {
	var cl client.Client
	if !o.dryRun {
		kube, _, err := c.connect(ctx)
		if err != nil {
			return err
		}
		cl = kube.Client
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Global.Timeout)
		defer cancel()
	}
	b, err := buildKustomization(ctx, cl, c.Global.Namespace, name, o)
	if err != nil {
		return err
	}
	out, err := objectsYAML(b.objects)
	if err != nil {
		return err
	}
	_, err = c.Out.Write([]byte(out))
	return err
}

// objectsYAML renders objects as a multi-document YAML stream.
func objectsYAML(objs []*unstructured.Unstructured) (string, error) {
	docs := make([]string, 0, len(objs))
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return "", fmt.Errorf("rendering %s/%s: %w", o.GetKind(), o.GetName(), err)
		}
		docs = append(docs, string(b))
	}
	return strings.Join(docs, "---\n"), nil
}
