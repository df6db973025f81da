package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubernetesModel is the provider's kubernetes attribute: a kubeconfig (paths and context)
// and/or the cluster's address and credentials given directly, as upstream's provider takes
// them.
type kubernetesModel struct {
	Host                  types.String `tfsdk:"host"`
	Username              types.String `tfsdk:"username"`
	Password              types.String `tfsdk:"password"`
	Insecure              types.Bool   `tfsdk:"insecure"`
	ClientCertificate     types.String `tfsdk:"client_certificate"`
	ClientKey             types.String `tfsdk:"client_key"`
	ClusterCACertificate  types.String `tfsdk:"cluster_ca_certificate"`
	ConfigPaths           types.List   `tfsdk:"config_paths"`
	ConfigPath            types.String `tfsdk:"config_path"`
	ConfigContext         types.String `tfsdk:"config_context"`
	ConfigContextAuthInfo types.String `tfsdk:"config_context_auth_info"`
	ConfigContextCluster  types.String `tfsdk:"config_context_cluster"`
	Token                 types.String `tfsdk:"token"`
	ProxyURL              types.String `tfsdk:"proxy_url"`
	Exec                  *execModel   `tfsdk:"exec"`
}

// execModel runs a credential plugin (aws eks get-token, gke-gcloud-auth-plugin, ...).
type execModel struct {
	APIVersion types.String `tfsdk:"api_version"`
	Command    types.String `tfsdk:"command"`
	Args       types.List   `tfsdk:"args"`
	Env        types.Map    `tfsdk:"env"`
}

func kubernetesSchema() schema.Attribute {
	str := func(desc string, sensitive bool) schema.Attribute {
		return schema.StringAttribute{Optional: true, Description: desc, Sensitive: sensitive}
	}
	return schema.SingleNestedAttribute{
		Optional: true,
		Description: "How to reach the cluster. Without it, the kubeconfig kubectl would use ($KUBECONFIG or " +
			"~/.kube/config) and its current context.",
		Attributes: map[string]schema.Attribute{
			"host":                     str("The Kubernetes API server's address (https://host:port).", false),
			"username":                 str("Basic authentication user name.", false),
			"password":                 str("Basic authentication password.", true),
			"insecure":                 schema.BoolAttribute{Optional: true, Description: "Skip the verification of the API server's certificate."},
			"client_certificate":       str("PEM client certificate for TLS authentication.", false),
			"client_key":               str("PEM private key of client_certificate.", true),
			"cluster_ca_certificate":   str("PEM CA certificate the API server's certificate is verified with.", false),
			"config_paths":             schema.ListAttribute{Optional: true, ElementType: types.StringType, Description: "Kubeconfig files, merged as kubectl merges $KUBECONFIG."},
			"config_path":              str("A kubeconfig file.", false),
			"config_context":           str("The kubeconfig context to use (default: its current context).", false),
			"config_context_auth_info": str("The kubeconfig user to use instead of the context's.", false),
			"config_context_cluster":   str("The kubeconfig cluster to use instead of the context's.", false),
			"token":                    str("Bearer token.", true),
			"proxy_url":                str("Proxy for the API server connection.", false),
			"exec": schema.SingleNestedAttribute{
				Optional:    true,
				Description: "A client-go credential plugin that prints the credentials.",
				Attributes: map[string]schema.Attribute{
					"api_version": schema.StringAttribute{Required: true, Description: "client.authentication.k8s.io/v1 or v1beta1."},
					"command":     schema.StringAttribute{Required: true, Description: "The plugin's executable."},
					"args":        schema.ListAttribute{Optional: true, ElementType: types.StringType},
					"env":         schema.MapAttribute{Optional: true, ElementType: types.StringType},
				},
			},
		},
	}
}

// configError names the attribute of the provider's kubernetes block that is wrong.
func configError(attr string, err error) error {
	return fmt.Errorf("provider attribute kubernetes.%s: %w", attr, err)
}

// restConfig builds the client configuration. Values given directly override the
// kubeconfig's, as upstream's provider and kubectl's flags do.
func (k *kubernetesModel) restConfig(ctx context.Context) (*rest.Config, error) {
	if k == nil {
		k = &kubernetesModel{}
	}
	var listed, args []string
	env := map[string]string{}
	if err := elementsAs(ctx, k.ConfigPaths, &listed); err != nil {
		return nil, configError("config_paths", err)
	}
	var paths []string
	for _, p := range append(listed, k.ConfigPath.ValueString()) {
		if p == "" {
			continue
		}
		expanded, err := expandHome(p)
		if err != nil {
			return nil, configError("config_path", err)
		}
		if _, err := os.Stat(expanded); err != nil {
			return nil, configError("config_path", fmt.Errorf("kubeconfig %s: %w", p, err))
		}
		paths = append(paths, expanded)
	}
	overrides := &clientcmd.ConfigOverrides{
		CurrentContext: k.ConfigContext.ValueString(),
		Context: clientcmdapi.Context{
			AuthInfo: k.ConfigContextAuthInfo.ValueString(),
			Cluster:  k.ConfigContextCluster.ValueString(),
		},
		ClusterInfo: clientcmdapi.Cluster{
			Server:                   k.Host.ValueString(),
			InsecureSkipTLSVerify:    k.Insecure.ValueBool(),
			CertificateAuthorityData: []byte(k.ClusterCACertificate.ValueString()),
			ProxyURL:                 k.ProxyURL.ValueString(),
		},
		AuthInfo: clientcmdapi.AuthInfo{
			ClientCertificateData: []byte(k.ClientCertificate.ValueString()),
			ClientKeyData:         []byte(k.ClientKey.ValueString()),
			Token:                 k.Token.ValueString(),
			Username:              k.Username.ValueString(),
			Password:              k.Password.ValueString(),
		},
	}
	if k.Exec != nil {
		if err := elementsAs(ctx, k.Exec.Args, &args); err != nil {
			return nil, configError("exec.args", err)
		}
		if err := elementsAs(ctx, k.Exec.Env, &env); err != nil {
			return nil, configError("exec.env", err)
		}
		exec := &clientcmdapi.ExecConfig{
			APIVersion: k.Exec.APIVersion.ValueString(), Command: k.Exec.Command.ValueString(),
			Args: args, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}
		for name, value := range env {
			exec.Env = append(exec.Env, clientcmdapi.ExecEnvVar{Name: name, Value: value})
		}
		overrides.AuthInfo.Exec = exec
	}
	if len(paths) == 0 && k.Host.ValueString() != "" {
		// Everything given directly: no kubeconfig is read.
		return direct(overrides)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if len(paths) > 0 {
		rules = &clientcmd.ClientConfigLoadingRules{Precedence: paths}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, configError("config_path", err)
	}
	return cfg, nil
}

// direct is the configuration of host and the credentials given with it.
func direct(o *clientcmd.ConfigOverrides) (*rest.Config, error) {
	cfg := clientcmdapi.NewConfig()
	cluster, user := o.ClusterInfo, o.AuthInfo
	cfg.Clusters["terraform"] = &cluster
	cfg.AuthInfos["terraform"] = &user
	cfg.Contexts["terraform"] = &clientcmdapi.Context{Cluster: "terraform", AuthInfo: "terraform"}
	cfg.CurrentContext = "terraform"
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, configError("host", err)
	}
	return rc, nil
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// elementsAs decodes a list or map attribute into target (left as it is when null).
func elementsAs(ctx context.Context, v interface {
	IsNull() bool
	IsUnknown() bool
	ElementsAs(context.Context, any, bool) diag.Diagnostics
}, target any) error {
	if v.IsNull() {
		return nil
	}
	if v.IsUnknown() {
		return fmt.Errorf("not known yet")
	}
	if d := v.ElementsAs(ctx, target, false); d.HasError() {
		return fmt.Errorf("%s", d.Errors()[0].Detail())
	}
	return nil
}
