package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestDebugCommandsUnreachableCluster: the cluster commands fail with the API server's
// address (diff with exit code 2, its code for errors) and never print the credentials.
func TestDebugCommandsUnreachableCluster(t *testing.T) {
	port := closedPort(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	const token = "s3cr3t-debug-t0k3n"
	data := "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:" + port +
		"\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: " + token +
		"\ncontexts:\n- name: c\n  context: {cluster: gone, user: u}\ncurrent-context: c\n"
	if err := os.WriteFile(kubeconfig, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := copyFixture(t, "build-fixture")
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"events"}, 1},
		{[]string{"logs"}, 1},
		{[]string{"tree", "ks", "flux-system"}, 1},
		{[]string{"trace", "Deployment/podinfo"}, 1},
		{[]string{"build", "ks", "staging", "--path", filepath.Join(dir, "apps/staging")}, 1},
		{[]string{"diff", "ks", "staging", "--path", filepath.Join(dir, "apps/staging")}, 2},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runFlux(t, "", append(tt.args, "--kubeconfig="+kubeconfig, "--timeout=5s")...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d", r.code, tt.code)
			}
			wants(t, "stderr", r.stderr, "✗ cannot reach the Kubernetes API server at https://127.0.0.1:"+port)
			if strings.Contains(r.stderr+r.stdout, token) {
				t.Error("the bearer token was printed")
			}
		})
	}
}

func TestMaskSecretValues(t *testing.T) {
	secret := func(data map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "data": data,
			"metadata": map[string]any{"name": "s", "namespace": "n", "managedFields": []any{map[string]any{"manager": "x"}}}}}
	}
	live := secret(map[string]any{"same": "c2FtZQ==", "changed": "b2xk", "removed": "Z29uZQ=="})
	merged := secret(map[string]any{"same": "c2FtZQ==", "changed": "bmV3", "added": "YWRkZWQ="})
	d, err := objectDiff(live, merged)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"c2FtZQ", "b2xk", "bmV3", "Z29uZQ", "YWRkZWQ", "managedFields"} {
		if strings.Contains(d, secret) {
			t.Errorf("the diff shows %q:\n%s", secret, d)
		}
	}
	wants(t, "diff", d, "-  changed: '***** (before)'\n", "+  changed: '***** (after)'\n", "+  added: '*****'\n", "-  removed: '*****'\n", "   same: '*****'\n")
	// The objects the diff was computed from are untouched.
	if live.Object["data"].(map[string]any)["changed"] != "b2xk" {
		t.Error("objectDiff modified its input")
	}
}
