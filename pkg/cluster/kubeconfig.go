package cluster

import (
	"fmt"
	"sort"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigPolicy says which risky parts of a tenant's kubeconfig are allowed.
type KubeconfigPolicy struct {
	// AllowExec allows user.exec plugins (--insecure-kubeconfig-exec): they run commands
	// inside the controller.
	AllowExec bool
	// AllowInsecureTLS allows insecure-skip-tls-verify (--insecure-kubeconfig-tls).
	AllowInsecureTLS bool
}

// RESTConfigFromKubeconfig builds a client configuration from kubeconfig data of an
// untrusted tenant, using its current context and honouring only in-line credentials. The
// error names the field at fault and never echoes a path or a credential.
func RESTConfigFromKubeconfig(data []byte, policy KubeconfigPolicy) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		// The parser's message may quote the data (a token on a broken line): say only
		// that it is not a kubeconfig.
		return nil, fmt.Errorf("not a valid kubeconfig")
	}
	ctxName := raw.CurrentContext
	if ctxName == "" && len(raw.Contexts) == 1 {
		for n := range raw.Contexts {
			ctxName = n
		}
	}
	kctx := raw.Contexts[ctxName]
	if kctx == nil {
		return nil, fmt.Errorf("the kubeconfig has no current-context (contexts: %v)", contextNames(raw))
	}
	cl := raw.Clusters[kctx.Cluster]
	if cl == nil {
		return nil, fmt.Errorf("context %q names cluster %q, which the kubeconfig does not define", ctxName, kctx.Cluster)
	}
	user := raw.AuthInfos[kctx.AuthInfo]
	if user == nil {
		user = clientcmdapi.NewAuthInfo()
	}
	if err := checkCluster(kctx.Cluster, cl, policy); err != nil {
		return nil, err
	}
	if err := checkUser(kctx.AuthInfo, user, policy); err != nil {
		return nil, err
	}
	cfg := &rest.Config{
		Host: cl.Server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:     cl.CertificateAuthorityData,
			ServerName: cl.TLSServerName,
			Insecure:   cl.InsecureSkipTLSVerify,
			CertData:   user.ClientCertificateData,
			KeyData:    user.ClientKeyData,
		},
		BearerToken: user.Token,
		Username:    user.Username,
		Password:    user.Password,
	}
	if user.Impersonate != "" || len(user.ImpersonateGroups) > 0 {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user.Impersonate, UID: user.ImpersonateUID,
			Groups: user.ImpersonateGroups, Extra: user.ImpersonateUserExtra}
	}
	if user.Exec != nil {
		exec := *user.Exec
		cfg.ExecProvider = &exec
	}
	if cfg.Host == "" {
		return nil, fmt.Errorf("cluster %q has no server", kctx.Cluster)
	}
	return cfg, nil
}

func checkCluster(name string, cl *clientcmdapi.Cluster, policy KubeconfigPolicy) error {
	switch {
	case cl.CertificateAuthority != "":
		return fmt.Errorf("cluster %q: certificate-authority refers to a file, which is not allowed: put the CA in certificate-authority-data", name)
	case cl.InsecureSkipTLSVerify && !policy.AllowInsecureTLS:
		return fmt.Errorf("cluster %q: insecure-skip-tls-verify is not allowed (the controller runs without --insecure-kubeconfig-tls)", name)
	case cl.ProxyURL != "":
		return fmt.Errorf("cluster %q: proxy-url is not supported", name)
	}
	return nil
}

func checkUser(name string, u *clientcmdapi.AuthInfo, policy KubeconfigPolicy) error {
	switch {
	case u.ClientCertificate != "":
		return fmt.Errorf("user %q: client-certificate refers to a file, which is not allowed: use client-certificate-data", name)
	case u.ClientKey != "":
		return fmt.Errorf("user %q: client-key refers to a file, which is not allowed: use client-key-data", name)
	case u.TokenFile != "":
		return fmt.Errorf("user %q: tokenFile refers to a file, which is not allowed: put the token in token", name)
	case u.AuthProvider != nil:
		return fmt.Errorf("user %q: auth-provider plugins are not supported", name)
	case u.Exec != nil && !policy.AllowExec:
		return fmt.Errorf("user %q uses an exec plugin, which is not allowed (the controller runs without --insecure-kubeconfig-exec)", name)
	}
	return nil
}

func contextNames(c *clientcmdapi.Config) []string {
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
