// Package provider is the flux provider: its configuration (how to reach the cluster and the
// Git repository) and the flux_bootstrap_git resource, which runs gotk.dev/cli/pkg/bootstrap.
package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Address is the provider's registry address, as users' configurations name it
// (source = "fluxcd/flux"), so configurations written for upstream's provider work unchanged.
const Address = "registry.opentofu.org/fluxcd/flux"

// fluxProvider holds the version the provider was built as.
type fluxProvider struct{ version string }

// New returns the provider factory for version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &fluxProvider{version: version} }
}

// providerModel is the provider block.
type providerModel struct {
	Kubernetes *kubernetesModel `tfsdk:"kubernetes"`
	Git        *gitModel        `tfsdk:"git"`
}

// providerData is what resources get from Configure. The configuration is kept as given: the
// cluster and the repository may not exist yet at plan time (they are created in the same
// run), so clients are built when a resource needs them.
type providerData struct {
	config providerModel
}

// defaultVersion is the Flux version installed when the resource names none: the
// provider's own, as the flux CLI installs its own version.
func (p *fluxProvider) defaultVersion() string { return "v" + strings.TrimPrefix(p.version, "v") }

func (p *fluxProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "flux"
	resp.Version = p.version
}

func (p *fluxProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Bootstraps Flux (the gotk implementation) on a Kubernetes cluster from a Git repository, " +
			"with the flux CLI's bootstrap code.",
		Attributes: map[string]schema.Attribute{
			"kubernetes": kubernetesSchema(),
			"git":        gitSchema(),
		},
	}
}

func (p *fluxProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{config: cfg}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *fluxProvider) Resources(context.Context) []func() resource.Resource {
	version := p.defaultVersion()
	return []func() resource.Resource{func() resource.Resource { return &bootstrapGitResource{defaultVersion: version} }}
}

func (p *fluxProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
