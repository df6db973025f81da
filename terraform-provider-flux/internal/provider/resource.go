package provider

import (
	"context"
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/kube"
	"gotk.dev/cli/pkg/uninstall"
)

// bootstrapGitResource is flux_bootstrap_git: create bootstraps, read detects drift (the
// install gone, controllers missing, managed files changed in the repository), update
// commits the new manifests and lets the cluster upgrade itself from Git, delete
// uninstalls and removes the manifests from the repository.
type bootstrapGitResource struct {
	defaultVersion string
	data           *providerData
}

var (
	_ resource.ResourceWithConfigure   = (*bootstrapGitResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*bootstrapGitResource)(nil)
	_ resource.ResourceWithImportState = (*bootstrapGitResource)(nil)
)

func (r *bootstrapGitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bootstrap_git"
}

func (r *bootstrapGitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("got %T", req.ProviderData))
		return
	}
	r.data = data
}

// prepare fills a bootstrap for the model: options, the cluster client (checked to answer),
// and the repository's remote (checked to accept the credentials). Nothing is changed yet,
// so a wrong credential leaves nothing behind.
func (r *bootstrapGitResource) prepare(ctx context.Context, m *bootstrapModel, op string, withGit bool) (*bootstrap.Bootstrapper, error) {
	if r.data == nil {
		return nil, fmt.Errorf("the flux provider is not configured")
	}
	b, err := m.bootstrapper(ctx)
	if err != nil {
		return nil, err
	}
	if b.Timeout, err = m.timeout(op); err != nil {
		return nil, err
	}
	b.Log = tfLogger{ctx: ctx}
	cfg, err := r.data.config.Kubernetes.restConfig(ctx)
	if err != nil {
		return nil, err
	}
	if b.Kube, err = kube.New(cfg); err != nil {
		return nil, fmt.Errorf("provider attribute kubernetes: %w", err)
	}
	if _, err := b.Kube.ServerVersion(ctx, min(kube.ConnectTimeout, b.Timeout)); err != nil {
		return nil, fmt.Errorf("provider attribute kubernetes: %w", err)
	}
	if !withGit {
		return b, nil
	}
	g := r.data.config.Git
	if err := g.configure(ctx, b, b.Timeout); err != nil {
		return nil, err
	}
	if err := b.Remote.Check(ctx); err != nil {
		return nil, fmt.Errorf("provider attribute %s: cannot read %s with these credentials: %w", g.credentialsAttr(), b.Remote.URL(), err)
	}
	return b, nil
}

// credentialsAttr names the attribute holding the credentials in use.
func (g *gitModel) credentialsAttr() string {
	switch {
	case g.SSH != nil:
		return "git.ssh.private_key"
	case g.HTTP != nil && g.HTTP.BearerToken.ValueString() != "":
		return "git.http.bearer_token"
	}
	return "git.http.password"
}

func (r *bootstrapGitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan bootstrapModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b, err := r.prepare(ctx, &plan, "create", true)
	if err != nil {
		resp.Diagnostics.AddError("Cannot bootstrap Flux", err.Error())
		return
	}
	// A create makes the cluster match: the components are applied even when a Kustomization
	// left from an earlier install would apply them from Git.
	b.AlwaysInstall = true
	r.apply(ctx, b, &plan, &resp.State, &resp.Diagnostics)
}

func (r *bootstrapGitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan bootstrapModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b, err := r.prepare(ctx, &plan, "update", true)
	if err != nil {
		resp.Diagnostics.AddError("Cannot update Flux", err.Error())
		return
	}
	r.apply(ctx, b, &plan, &resp.State, &resp.Diagnostics)
}

// apply runs the bootstrap and records the result. When the run fails after it started
// changing things, the state is still saved, so Terraform marks the resource tainted and the
// next apply uninstalls and bootstraps again instead of forgetting what was installed.
func (r *bootstrapGitResource) apply(ctx context.Context, b *bootstrap.Bootstrapper, plan *bootstrapModel, state *tfsdk.State, diags *diag.Diagnostics) {
	plan.ID = types.StringValue(b.Install.Namespace)
	runErr := b.Run(ctx)
	if plan.RepositoryFiles.IsUnknown() || runErr != nil {
		files, err := r.repositoryFiles(ctx, b, plan)
		if err != nil {
			diags.AddError("Cannot read the Flux manifests from the repository", err.Error())
			return
		}
		plan.RepositoryFiles = files
	}
	diags.Append(state.Set(ctx, plan)...)
	if runErr != nil {
		diags.AddError("Flux bootstrap failed", runErr.Error())
	}
}

// repositoryFiles reads the files the resource tracks from the repository.
func (r *bootstrapGitResource) repositoryFiles(ctx context.Context, b *bootstrap.Bootstrapper, m *bootstrapModel) (types.Map, error) {
	files, err := b.RepositoryFiles(ctx)
	if err != nil {
		return types.MapNull(types.StringType), err
	}
	return trackedFiles(ctx, b, m, files)
}

// trackedFiles keeps the files the resource owns: kustomization.yaml is the user's unless
// kustomization_override sets it.
func trackedFiles(ctx context.Context, b *bootstrap.Bootstrapper, m *bootstrapModel, files map[string]string) (types.Map, error) {
	files = maps.Clone(files)
	if m.KustomizationOverride.ValueString() == "" {
		delete(files, b.ManagedFiles()[2])
	}
	v, d := types.MapValueFrom(ctx, types.StringType, files)
	if d.HasError() {
		return v, fmt.Errorf("%s", d.Errors()[0].Detail())
	}
	return v, nil
}

func (r *bootstrapGitResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bootstrapModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b, err := r.prepare(ctx, &state, "delete", state.DeleteGitManifests.ValueBool())
	if err != nil {
		resp.Diagnostics.AddError("Cannot uninstall Flux", err.Error())
		return
	}
	// The cluster first: with the controllers running, removing the manifests from Git
	// would have them prune themselves halfway.
	err = uninstall.Run(ctx, b.Kube, b.Log, uninstall.Options{
		Namespace: b.Install.Namespace, KeepNamespace: state.KeepNamespace.ValueBool(), Timeout: b.Timeout,
	})
	if err != nil {
		resp.Diagnostics.AddError("Flux uninstall failed", err.Error())
		return
	}
	if state.DeleteGitManifests.ValueBool() {
		if err := b.RemoveFiles(ctx); err != nil {
			resp.Diagnostics.AddError("Cannot remove the Flux manifests from the repository", err.Error())
		}
	}
}

func (r *bootstrapGitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("namespace"), req.ID)...)
}
