package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestKubernetesDirect(t *testing.T) {
	k := &kubernetesModel{
		Host: types.StringValue("https://10.0.0.1:6443"), Token: types.StringValue("tok"), Insecure: types.BoolValue(true),
		Exec: &execModel{
			APIVersion: types.StringValue("client.authentication.k8s.io/v1"), Command: types.StringValue("get-token"),
			Args: types.ListValueMust(types.StringType, []attr.Value{types.StringValue("--cluster"), types.StringValue("c1")}),
			Env:  types.MapValueMust(types.StringType, map[string]attr.Value{"REGION": types.StringValue("eu")}),
		},
	}
	cfg, err := k.restConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://10.0.0.1:6443" || cfg.BearerToken != "tok" || !cfg.Insecure {
		t.Errorf("config %+v", cfg)
	}
	if cfg.ExecProvider == nil || cfg.ExecProvider.Command != "get-token" || strings.Join(cfg.ExecProvider.Args, " ") != "--cluster c1" ||
		len(cfg.ExecProvider.Env) != 1 || cfg.ExecProvider.Env[0].Value != "eu" {
		t.Errorf("exec %+v", cfg.ExecProvider)
	}
}

func TestKubernetesConfigPath(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example.com"}
- name: b
  cluster: {server: "https://b.example.com"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: a
  context: {cluster: a, user: u}
- name: b
  context: {cluster: b, user: u}
current-context: a
`
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &kubernetesModel{ConfigPath: types.StringValue(path), ConfigContext: types.StringValue("b")}
	cfg, err := k.restConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://b.example.com" || cfg.BearerToken != "t" {
		t.Errorf("context b: %s %q", cfg.Host, cfg.BearerToken)
	}

	k = &kubernetesModel{ConfigPath: types.StringValue(filepath.Join(dir, "missing"))}
	if _, err := k.restConfig(context.Background()); err == nil || !strings.Contains(err.Error(), "provider attribute kubernetes.config_path") {
		t.Errorf("missing kubeconfig: %v", err)
	}
	k = &kubernetesModel{ConfigPath: types.StringValue(path), ConfigContext: types.StringValue("nope")}
	if _, err := k.restConfig(context.Background()); err == nil || !strings.Contains(err.Error(), "kubernetes.config_path") {
		t.Errorf("unknown context: %v", err)
	}
}
