package framework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/workspace"
)

// TestFrameworkPassesManifestFlags checks that every flag a controller's Deployment passes in
// manifests/bases/<name>/deployment.yaml is passed by the e2e framework too, with the same
// value unless the process on this machine needs its own (addresses, paths) or the
// difference is a recorded deviation. A flag added to a manifest and forgotten here fails.
func TestFrameworkPassesManifestFlags(t *testing.T) {
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	// Flags whose value is machine specific in e2e (addresses, paths) or a recorded deviation.
	localValue := map[string]bool{
		"--events-addr": true, "--storage-path": true, "--storage-adv-addr": true, "--storage-addr": true,
		"--metrics-addr": true, "--health-addr": true, "--receiverAddr": true, "--enable-leader-election": true,
	}
	for _, name := range KnownControllers() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "manifests", "bases", name, "deployment.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var d appsv1.Deployment
			if err := yaml.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			if len(d.Spec.Template.Spec.Containers) == 0 {
				t.Fatal("no container in the Deployment")
			}
			args, err := LocalControllerArgs(name, LocalAddrs{Metrics: "127.0.0.1:1", Health: "127.0.0.1:2", Storage: "127.0.0.1:3"}, "/kubeconfig", "/storage", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, a := range args {
				k, v, _ := strings.Cut(a, "=")
				got[k] = v
			}
			for _, a := range d.Spec.Template.Spec.Containers[0].Args {
				k, v, _ := strings.Cut(a, "=")
				gv, ok := got[k]
				if !ok {
					t.Errorf("the manifest passes %s; the e2e framework does not", a)
					continue
				}
				if !localValue[k] && gv != v {
					t.Errorf("%s: manifest %q, e2e framework %q", k, v, gv)
				}
			}
		})
	}
}
