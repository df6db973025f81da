package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/cli/pkg/bootstrap"
	"gotk.dev/cli/pkg/manifests"
)

// Read detects drift. The install gone (namespace deleted) or a controller's Deployment
// missing drops the resource from the state, so the plan bootstraps again; the managed
// files as they are in the repository go to repository_files, so a plan shows a change when
// someone edited them.
func (r *bootstrapGitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bootstrapModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	importing := state.Version.IsNull()
	if importing {
		if state.Namespace.ValueString() == "" {
			state.Namespace = state.ID
		}
		setDefaults(&state, r.defaultVersion)
	}
	b, err := r.prepare(ctx, &state, "read", false)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the Flux install", err.Error())
		return
	}
	ns := b.Install.Namespace
	if _, err := b.Kube.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if importing {
			resp.Diagnostics.AddError("Cannot import", fmt.Sprintf("namespace %s does not exist: Flux is not installed there", ns))
			return
		}
		resp.Diagnostics.AddWarning("Flux is not installed", fmt.Sprintf("namespace %s is gone: the plan bootstraps Flux again", ns))
		resp.State.RemoveResource(ctx)
		return
	} else if err != nil {
		resp.Diagnostics.AddError("Cannot read the Flux install", err.Error())
		return
	}
	if importing {
		if err := importInstall(ctx, b, &state); err != nil {
			resp.Diagnostics.AddError("Cannot import", err.Error())
			return
		}
		if b, err = r.prepare(ctx, &state, "read", false); err != nil {
			resp.Diagnostics.AddError("Cannot import", err.Error())
			return
		}
	}
	var missing []string
	for _, c := range b.Install.Components {
		_, err := b.Kube.Clientset.AppsV1().Deployments(ns).Get(ctx, c, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, c)
		case err != nil:
			resp.Diagnostics.AddError("Cannot read the Flux install", err.Error())
			return
		}
	}
	if len(missing) > 0 {
		resp.Diagnostics.AddWarning("Flux controllers are missing",
			fmt.Sprintf("no Deployment %s in namespace %s: the plan bootstraps Flux again", strings.Join(missing, ", "), ns))
		resp.State.RemoveResource(ctx)
		return
	}
	if err := r.data.config.Git.configure(ctx, b, b.Timeout); err != nil {
		resp.Diagnostics.AddError("Cannot read the Flux manifests from the repository", err.Error())
		return
	}
	files, err := r.repositoryFiles(ctx, b, &state)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the Flux manifests from the repository", err.Error())
		return
	}
	state.RepositoryFiles = files
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// ModifyPlan computes repository_files: the manifests the configuration commits. Against
// the state's (read from the repository) the plan shows what a change of version or
// components rewrites, and what an apply restores after someone edited the files.
func (r *bootstrapGitResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return // destroy, or the provider is not configured yet (validate)
	}
	var plan bootstrapModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.known() || r.data.config.Git == nil || r.data.config.Git.URL.IsUnknown() ||
		r.data.config.Git.Branch.IsUnknown() {
		return // repository_files stays unknown until apply
	}
	b, err := plan.bootstrapper(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Invalid flux_bootstrap_git", err.Error())
		return
	}
	g := r.data.config.Git
	b.Branch = valueOr(g.Branch, defaultBranch)
	if b.SyncURL, err = g.syncURL(); err != nil {
		resp.Diagnostics.AddError("Invalid provider configuration", err.Error())
		return
	}
	expected, err := b.ExpectedFiles()
	if err != nil {
		resp.Diagnostics.AddError("Invalid flux_bootstrap_git", flagNames.Replace(err.Error()))
		return
	}
	files, err := trackedFiles(ctx, b, &plan, expected)
	if err != nil {
		resp.Diagnostics.AddError("Invalid flux_bootstrap_git", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("repository_files"), files)...)
}

// known reports whether every attribute the manifests depend on is known at plan time.
func (m *bootstrapModel) known() bool {
	for _, v := range []interface{ IsUnknown() bool }{m.Path, m.Version, m.Components, m.ComponentsExtra, m.Namespace,
		m.ClusterDomain, m.NetworkPolicy, m.Registry, m.ImagePullSecret, m.TolerationKeys, m.WatchAllNamespaces,
		m.LogLevel, m.SecretName, m.Interval, m.RecurseSubmodules, m.KustomizationOverride} {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

// setDefaults gives an imported state the attributes' defaults; importInstall then reads
// what the cluster says.
func setDefaults(m *bootstrapModel, version string) {
	m.Version = types.StringValue(version)
	m.Components = stringSet(manifests.DefaultComponents())
	m.ClusterDomain = types.StringValue(manifests.DefaultClusterDomain)
	m.NetworkPolicy = types.BoolValue(true)
	m.Registry = types.StringValue(manifests.DefaultRegistry)
	m.WatchAllNamespaces = types.BoolValue(true)
	m.LogLevel = types.StringValue(manifests.DefaultLogLevel)
	m.SecretName = types.StringValue(m.Namespace.ValueString())
	m.Interval = types.StringValue(defaultInterval)
	m.RecurseSubmodules = types.BoolValue(false)
	m.EmbeddedManifests = types.BoolValue(false)
	m.DeleteGitManifests = types.BoolValue(true)
	m.KeepNamespace = types.BoolValue(false)
}

// importInstall reads an existing bootstrap into m: the sync objects give the path, interval
// and secret; the controllers' Deployments the components, version and registry.
func importInstall(ctx context.Context, b *bootstrap.Bootstrapper, m *bootstrapModel) error {
	sync, err := bootstrap.ReadSync(ctx, b.Kube, b.Install.Namespace)
	if err != nil {
		return err
	}
	m.Path = types.StringValue(sync.Path)
	if sync.Path == "" {
		m.Path = types.StringNull()
	}
	m.Interval = types.StringValue(sync.Interval.String())
	m.SecretName = types.StringValue(sync.Secret)
	m.RecurseSubmodules = types.BoolValue(sync.RecurseSubmodules)
	deployments, err := b.Kube.Clientset.AppsV1().Deployments(b.Install.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: manifests.PartOfLabel + "=" + manifests.PartOfValue,
	})
	if err != nil {
		return err
	}
	var components, extra []string
	for _, d := range deployments.Items {
		c := d.Labels[manifests.ComponentLabel]
		switch {
		case slices.Contains(manifests.ExtraComponents(), c):
			extra = append(extra, c)
		case slices.Contains(manifests.DefaultComponents(), c):
			components = append(components, c)
		default:
			continue
		}
		if v := d.Labels[manifests.VersionLabel]; v != "" {
			m.Version = types.StringValue(v)
		}
		if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
			if i := strings.LastIndex(cs[0].Image, "/"+c+":"); i > 0 {
				m.Registry = types.StringValue(cs[0].Image[:i])
			}
		}
	}
	if len(components) > 0 {
		m.Components = stringSet(components)
	}
	if len(extra) > 0 {
		m.ComponentsExtra = stringSet(extra)
	}
	return nil
}
