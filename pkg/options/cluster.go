package options

import "github.com/spf13/pflag"

// Cluster is the option set of controllers that act on clusters on behalf of objects
// (kustomize- and helm-controller): which identities and kubeconfigs objects may use.
type Cluster struct {
	DefaultServiceAccount           string
	DefaultKubeconfigServiceAccount string
	InsecureKubeconfigExec          bool
	InsecureKubeconfigTLS           bool
}

// BindFlags registers the flags with their upstream names and defaults.
func (o *Cluster) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DefaultServiceAccount, "default-service-account", "", "Default service account used for impersonation.")
	fs.StringVar(&o.DefaultKubeconfigServiceAccount, "default-kubeconfig-service-account", "", "Default service account used for remote clusters reached with spec.kubeConfig.configMapRef.")
	fs.BoolVar(&o.InsecureKubeconfigExec, "insecure-kubeconfig-exec", false, "Allow use of the user.exec section in kubeconfigs provided for remote apply.")
	fs.BoolVar(&o.InsecureKubeconfigTLS, "insecure-kubeconfig-tls", false, "Allow that kubeconfigs provided for remote apply can disable TLS verification.")
}
