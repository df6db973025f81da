package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/manifests"
)

// bootstrapModel is flux_bootstrap_git's state: upstream's attributes, with repository_files
// holding the managed files of the repository (drift shows as a change to them).
type bootstrapModel struct {
	ID                    types.String   `tfsdk:"id"`
	Path                  types.String   `tfsdk:"path"`
	Version               types.String   `tfsdk:"version"`
	Components            types.Set      `tfsdk:"components"`
	ComponentsExtra       types.Set      `tfsdk:"components_extra"`
	Namespace             types.String   `tfsdk:"namespace"`
	ClusterDomain         types.String   `tfsdk:"cluster_domain"`
	NetworkPolicy         types.Bool     `tfsdk:"network_policy"`
	Registry              types.String   `tfsdk:"registry"`
	ImagePullSecret       types.String   `tfsdk:"image_pull_secret"`
	TolerationKeys        types.Set      `tfsdk:"toleration_keys"`
	WatchAllNamespaces    types.Bool     `tfsdk:"watch_all_namespaces"`
	LogLevel              types.String   `tfsdk:"log_level"`
	SecretName            types.String   `tfsdk:"secret_name"`
	Interval              types.String   `tfsdk:"interval"`
	RecurseSubmodules     types.Bool     `tfsdk:"recurse_submodules"`
	KustomizationOverride types.String   `tfsdk:"kustomization_override"`
	EmbeddedManifests     types.Bool     `tfsdk:"embedded_manifests"`
	DeleteGitManifests    types.Bool     `tfsdk:"delete_git_manifests"`
	KeepNamespace         types.Bool     `tfsdk:"keep_namespace"`
	Timeouts              *timeoutsModel `tfsdk:"timeouts"`
	RepositoryFiles       types.Map      `tfsdk:"repository_files"`
}

// Defaults of the resource's attributes that flux bootstrap has as flag defaults.
const (
	defaultInterval        = "1m0s"
	defaultTimeout         = "5m0s"
	defaultTimeoutDuration = 5 * time.Minute
)

// timeoutsModel is the timeouts block, as upstream's provider has it.
type timeoutsModel struct {
	Create types.String `tfsdk:"create"`
	Read   types.String `tfsdk:"read"`
	Update types.String `tfsdk:"update"`
	Delete types.String `tfsdk:"delete"`
}

// timeout is the operation's (create, read, update or delete) timeout.
func (m *bootstrapModel) timeout(op string) (time.Duration, error) {
	if m.Timeouts == nil {
		return defaultTimeoutDuration, nil
	}
	v := map[string]types.String{"create": m.Timeouts.Create, "read": m.Timeouts.Read,
		"update": m.Timeouts.Update, "delete": m.Timeouts.Delete}[op]
	d, err := parseDuration(v, defaultTimeout)
	if err != nil {
		return 0, attrError("timeouts."+op, err)
	}
	return d, nil
}

func stringSet(values []string) types.Set {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.SetValueMust(types.StringType, elems)
}

func (r *bootstrapGitResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	version := r.defaultVersion
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	optional := func(desc string, def string) schema.StringAttribute {
		a := schema.StringAttribute{Optional: true, Computed: def != "", Description: desc}
		if def != "" {
			a.Default = stringdefault.StaticString(def)
		}
		return a
	}
	flag := func(desc string, def bool) schema.BoolAttribute {
		return schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(def), Description: desc}
	}
	path := optional("Directory of the cluster in the repository (the Flux manifests go to <path>/<namespace>). "+
		"Changing it bootstraps again from the new directory.", "")
	path.PlanModifiers = replace
	namespace := optional("Namespace Flux is installed in. Changing it bootstraps a new install.", manifests.DefaultNamespace)
	namespace.PlanModifiers = replace
	resp.Schema = schema.Schema{
		Description: "Commits the Flux components and sync manifests to the provider's Git repository and " +
			"configures the cluster to synchronize with it (flux bootstrap git). Changes are committed and " +
			"reconciled through Git; destroying uninstalls Flux.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The install's namespace.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"path":      path,
			"version":   optional("Flux version (the controllers' image tag).", version),
			"namespace": namespace,
			"components": schema.SetAttribute{Optional: true, Computed: true, ElementType: types.StringType,
				Default:     setdefault.StaticValue(stringSet(manifests.DefaultComponents())),
				Description: "Controllers to install."},
			"components_extra": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				Description: "Controllers to install besides components: image-reflector-controller, image-automation-controller."},
			"cluster_domain":       optional("The cluster's DNS domain.", manifests.DefaultClusterDomain),
			"network_policy":       flag("Install the network policies that deny ingress from other namespaces.", true),
			"registry":             optional("Registry (and path) the controller images are pulled from.", manifests.DefaultRegistry),
			"image_pull_secret":    optional("Secret in the namespace the controller images are pulled with.", ""),
			"toleration_keys":      schema.SetAttribute{Optional: true, ElementType: types.StringType, Description: "Taint keys the controllers tolerate."},
			"watch_all_namespaces": flag("The controllers reconcile objects of every namespace, not only their own.", true),
			"log_level":            optional("The controllers' log level: trace, debug, info or error.", manifests.DefaultLogLevel),
			"secret_name":          optional("Secret holding the cluster's Git credentials.", manifests.DefaultNamespace),
			"interval":             optional("The GitRepository's sync interval.", defaultInterval),
			"recurse_submodules":   flag("Clone the repository's submodules too.", false),
			"kustomization_override": optional("Contents of <path>/<namespace>/kustomization.yaml, to patch the components "+
				"(the generated files are added to its resources when missing). Unset, a kustomization.yaml in the repository is kept as it is.", ""),
			"embedded_manifests":   flag("Accepted for compatibility: the install manifests are always the ones embedded in the provider.", false),
			"delete_git_manifests": flag("Remove the Flux manifests from the repository on destroy.", true),
			"keep_namespace":       flag("Keep the namespace on destroy.", false),
			"repository_files": schema.MapAttribute{Computed: true, ElementType: types.StringType,
				Description: "The Flux manifests in the repository, by path (kustomization.yaml only with kustomization_override)."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": schema.SingleNestedBlock{
				Description: "How long each operation waits for the cluster and the repository (default " + defaultTimeout + ").",
				Attributes: map[string]schema.Attribute{
					"create": schema.StringAttribute{Optional: true, Description: "A duration such as 10m."},
					"read":   schema.StringAttribute{Optional: true, Description: "A duration such as 1m."},
					"update": schema.StringAttribute{Optional: true, Description: "A duration such as 10m."},
					"delete": schema.StringAttribute{Optional: true, Description: "A duration such as 5m."},
				},
			},
		},
	}
}

// bootstrapperFor fills the options of a bootstrap from the model. It needs neither the
// cluster nor the repository; diagnostics name the attribute.
func (m *bootstrapModel) bootstrapper(ctx context.Context) (*bootstrap.Bootstrapper, error) {
	var components, extra, tolerations []string
	for name, set := range map[string]struct {
		v   types.Set
		out *[]string
	}{"components": {m.Components, &components}, "components_extra": {m.ComponentsExtra, &extra}, "toleration_keys": {m.TolerationKeys, &tolerations}} {
		if err := elementsAs(ctx, set.v, set.out); err != nil {
			return nil, attrError(name, err)
		}
	}
	selected, err := manifests.SelectComponents(components, extra)
	if err != nil {
		return nil, attrError("components", err)
	}
	cleanPath, err := bootstrap.CleanPath(m.Path.ValueString())
	if err != nil {
		return nil, attrError("path", err)
	}
	interval, err := parseDuration(m.Interval, defaultInterval)
	if err != nil {
		return nil, attrError("interval", err)
	}
	b := &bootstrap.Bootstrapper{Options: bootstrap.Options{
		Install: manifests.Options{
			Namespace:          m.Namespace.ValueString(),
			Components:         selected,
			Registry:           m.Registry.ValueString(),
			Version:            m.Version.ValueString(),
			ImagePullSecret:    m.ImagePullSecret.ValueString(),
			NetworkPolicy:      m.NetworkPolicy.ValueBool(),
			WatchAllNamespaces: m.WatchAllNamespaces.ValueBool(),
			LogLevel:           m.LogLevel.ValueString(),
			ClusterDomain:      m.ClusterDomain.ValueString(),
			TolerationKeys:     tolerations,
		},
		Path:              cleanPath,
		Interval:          interval,
		SecretName:        m.SecretName.ValueString(),
		RecurseSubmodules: m.RecurseSubmodules.ValueBool(),
		Timeout:           defaultTimeoutDuration,
		Branch:            defaultBranch,
	}}
	if o := m.KustomizationOverride.ValueString(); o != "" {
		b.KustomizationOverride = []byte(o)
	}
	return b, nil
}
