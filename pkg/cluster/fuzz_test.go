package cluster

import (
	"strings"
	"testing"
)

// FuzzRESTConfigFromKubeconfig feeds arbitrary kubeconfigs to the sanitiser: it never panics,
// a configuration it returns never reads a file (so a tenant cannot reach the controller's
// own credentials), and an error never quotes a path the kubeconfig names.
func FuzzRESTConfigFromKubeconfig(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n",
		"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://h, certificate-authority: /secret/ca}\nusers:\n- name: u\n  user: {tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n",
		"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://h, insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n",
		"", "{", "current-context: x",
	} {
		f.Add([]byte(seed), false, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, exec, insecure bool) {
		cfg, err := RESTConfigFromKubeconfig(data, KubeconfigPolicy{AllowExec: exec, AllowInsecureTLS: insecure})
		if err != nil {
			for _, p := range []string{"/var/run/secrets", "/secret/ca"} {
				if strings.Contains(err.Error(), p) {
					t.Errorf("error quotes a path: %v", err)
				}
			}
			return
		}
		if cfg.BearerTokenFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" || cfg.CAFile != "" {
			t.Errorf("configuration reads files: %+v", cfg)
		}
		if cfg.ExecProvider != nil && !exec {
			t.Error("exec plugin allowed without AllowExec")
		}
		if cfg.Insecure && !insecure {
			t.Error("insecure TLS allowed without AllowInsecureTLS")
		}
	})
}
