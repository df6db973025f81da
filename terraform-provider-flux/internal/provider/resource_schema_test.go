package provider

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// validModel is a plan with the schema's defaults.
func validModel() *bootstrapModel {
	m := &bootstrapModel{Namespace: types.StringValue("flux-system"), Path: types.StringValue("clusters/prod")}
	setDefaults(m, "v1.0.0")
	m.ComponentsExtra, m.TolerationKeys = types.SetNull(types.StringType), types.SetNull(types.StringType)
	return m
}

// TestBootstrapperErrors: the shared validation's flag names come out as attribute names.
func TestBootstrapperErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m *bootstrapModel)
		want string
	}{
		{"log level", func(m *bootstrapModel) { m.LogLevel = types.StringValue("loud") }, `invalid log_level "loud"`},
		{"component", func(m *bootstrapModel) { m.ComponentsExtra = stringSet([]string{"helm-controller"}) }, "attribute components: unknown component \"helm-controller\" in components_extra"},
		{"path", func(m *bootstrapModel) { m.Path = types.StringValue("../up") }, "attribute path: invalid path \"../up\""},
		{"interval", func(m *bootstrapModel) { m.Interval = types.StringValue("soon") }, "attribute interval:"},
		{"timeout", func(m *bootstrapModel) { m.Timeouts = &timeoutsModel{Create: types.StringValue("-1m")} }, "attribute timeouts.create:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := validModel()
			tc.edit(m)
			b, err := m.bootstrapper(context.Background())
			if err == nil {
				_, err = m.timeout("create")
			}
			if err == nil {
				// What ModifyPlan reports: the shared validation with attribute names.
				if _, err = b.ExpectedFiles(); err != nil {
					err = errors.New(flagNames.Replace(err.Error()))
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestExpectedFiles: what a plan shows is what bootstrap commits, kustomization.yaml only
// when the resource owns it.
func TestExpectedFiles(t *testing.T) {
	ctx := context.Background()
	m := validModel()
	b, err := m.bootstrapper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.SyncURL = "https://git.example.com/fleet.git"
	files, err := b.ExpectedFiles()
	if err != nil {
		t.Fatal(err)
	}
	tracked, err := trackedFiles(ctx, b, m, files)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tracked.ElementsAs(ctx, &got, false)
	if len(got) != 2 || !strings.Contains(got["clusters/prod/flux-system/gotk-components.yaml"], "# Flux Version: v1.0.0") ||
		!strings.Contains(got["clusters/prod/flux-system/gotk-sync.yaml"], "url: https://git.example.com/fleet.git") {
		t.Errorf("tracked files: %v", keys(got))
	}
	m.KustomizationOverride = types.StringValue("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
	if b, err = m.bootstrapper(ctx); err != nil {
		t.Fatal(err)
	}
	files, err = b.ExpectedFiles()
	if err != nil {
		t.Fatal(err)
	}
	tracked, _ = trackedFiles(ctx, b, m, files)
	got = map[string]string{}
	tracked.ElementsAs(ctx, &got, false)
	if k := got["clusters/prod/flux-system/kustomization.yaml"]; !strings.Contains(k, "- gotk-components.yaml") {
		t.Errorf("kustomization.yaml with the override: %q", k)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
