package app

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"gotk.dev/cli/pkg/manifests"
)

// installFlags are `flux install`'s own flags; --namespace and --timeout are global.
type installFlags struct {
	export         bool
	components     []string
	extra          []string
	registry       string
	version        string
	pullSecret     string
	networkPolicy  bool
	watchAll       bool
	logLevel       string
	clusterDomain  string
	tolerationKeys []string
	shards         []string
}

// defaultImageTag is the controllers' image tag matching this CLI: its version with a
// leading "v", as release images are tagged.
func defaultImageTag() string {
	if strings.HasPrefix(Version, "v") {
		return Version
	}
	return "v" + Version
}

func newInstallCommand(c *Command) *cobra.Command {
	f := installFlags{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install or upgrade Flux",
		Long: `The install command deploys Flux in the specified namespace.
If a previous version is installed, then an in-place upgrade will be performed.`,
		Example: `  # Install the latest version in the flux-system namespace
  flux install --namespace=flux-system

  # Install a specific set of components, images from a mirror
  flux install --components="source-controller,kustomize-controller" --registry=registry.example.com/flux

  # Add the image automation controllers
  flux install --components-extra="image-reflector-controller,image-automation-controller"

  # Print the manifests instead of applying them
  flux install --export > flux-system.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options(c.Global.Namespace)
			if err != nil {
				return err
			}
			log := c.Log()
			if !f.export {
				log.Generatef("generating manifests")
			}
			objs, err := manifests.Generate(opts)
			if err != nil {
				return err
			}
			if f.export {
				data, err := manifests.Marshal(objs)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.Out, "---\n# Flux version: %s\n# Components: %s\n", opts.Version, strings.Join(opts.Components, ","))
				_, err = c.Out.Write(data)
				return err
			}
			log.Successf("manifests build completed")
			return c.install(cmd.Context(), objs, opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.export, "export", false, "write the install manifests to stdout and exit")
	f.bindFlags(fs)
	return cmd
}

// bindFlags registers the flags that select and configure the components; flux install and
// flux bootstrap share them.
func (f *installFlags) bindFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.components, "components", manifests.DefaultComponents(), "list of components, accepts comma-separated values")
	fs.StringSliceVar(&f.extra, "components-extra", nil, "list of components in addition to those supplied or defaulted, accepts values such as 'image-reflector-controller,image-automation-controller'")
	fs.StringVar(&f.registry, "registry", manifests.DefaultRegistry, "container registry where the toolkit images are published")
	fs.StringVarP(&f.version, "version", "v", defaultImageTag(), "toolkit version (the controllers' image tag)")
	fs.StringVar(&f.pullSecret, "image-pull-secret", "", "Kubernetes secret name used for pulling the toolkit images from a private registry")
	fs.BoolVar(&f.networkPolicy, "network-policy", true, "deny ingress access to the toolkit controllers from other namespaces using network policies")
	fs.BoolVar(&f.watchAll, "watch-all-namespaces", true, "watch for custom resources in all namespaces, if set to false it will only watch the namespace where the toolkit is installed")
	fs.StringVar(&f.logLevel, "log-level", manifests.DefaultLogLevel, "log level, accepts "+strings.Join(manifests.LogLevels(), ", "))
	fs.StringVar(&f.clusterDomain, "cluster-domain", manifests.DefaultClusterDomain, "internal cluster domain")
	fs.StringSliceVar(&f.tolerationKeys, "toleration-keys", nil, "list of toleration keys used to schedule the components pods onto nodes with matching taints")
	fs.StringSliceVar(&f.shards, "shards", nil, "names of shards: for each, a source-, kustomize- and helm-controller instance named <controller>-<shard> reconciling the objects labelled sharding.fluxcd.io/key=<shard>, while the main controllers reconcile those without the label")
}

// options turns the flags into validated install options.
func (f installFlags) options(namespace string) (manifests.Options, error) {
	components, err := manifests.SelectComponents(f.components, f.extra)
	if err != nil {
		return manifests.Options{}, err
	}
	o := manifests.Options{
		Namespace:          namespace,
		Components:         components,
		Registry:           f.registry,
		Version:            f.version,
		ImagePullSecret:    f.pullSecret,
		NetworkPolicy:      f.networkPolicy,
		WatchAllNamespaces: f.watchAll,
		LogLevel:           f.logLevel,
		ClusterDomain:      f.clusterDomain,
		TolerationKeys:     f.tolerationKeys,
		Shards:             f.shards,
	}
	return o, o.Validate()
}
