package manifests

import (
	"slices"
	"strings"
	"testing"
)

// TestUIComponent: the web UI is installed only when asked for (--components-extra=ui),
// from its own image, with the RBAC it needs to impersonate the people signed in.
func TestUIComponent(t *testing.T) {
	for _, u := range generate(t, func(*Options) {}) {
		if u.GetLabels()[ComponentLabel] == UI || strings.HasPrefix(u.GetName(), "flux-ui") {
			t.Errorf("the default install has %s", ID(u))
		}
	}
	objs := generate(t, func(o *Options) {
		o.Components = append(DefaultComponents(), UI)
		o.Registry, o.Version = "registry.example.com/flux", "v1.2.3"
	})
	d := find(objs, "Deployment", UI)
	if img := container(t, d)["image"]; img != "registry.example.com/flux/ui:v1.2.3" {
		t.Errorf("ui image %v", img)
	}
	role := find(objs, "ClusterRole", "flux-ui-flux-system")
	var verbs []string
	for _, r := range role.Object["rules"].([]any) {
		for _, v := range r.(map[string]any)["verbs"].([]any) {
			verbs = append(verbs, v.(string))
		}
	}
	if !slices.Contains(verbs, "impersonate") || slices.Contains(verbs, "patch") || slices.Contains(verbs, "update") {
		t.Errorf("flux-ui verbs %v: impersonate, and no write of its own", verbs)
	}
	if b := find(objs, "ClusterRoleBinding", "flux-ui-flux-system"); b == nil {
		t.Error("no flux-ui binding")
	}
	// Another install in another namespace gets its own cluster-scoped names.
	other := generate(t, func(o *Options) { o.Components = []string{SourceController, UI}; o.Namespace = "gitops" })
	if find(other, "ClusterRoleBinding", "flux-ui-gitops") == nil || find(other, "ClusterRole", "flux-ui-gitops") == nil {
		t.Error("no flux-ui-gitops RBAC in the gitops install")
	}
}
