// Package crds_test proves the generated CRDs against a real kube-apiserver: they install and
// become Established, they accept a real Flux user repository, they reject invalid objects
// with the messages users will see, and they apply upstream's defaults.
package crds_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/workspace"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"gotk.dev/apis"
	"gotk.dev/e2e/cluster"
	"gotk.dev/internal/testing/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	scheme, err := apis.NewScheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testenv.Main(m, &env, testenv.Options{Scheme: scheme})
}

// The thirteen Flux kinds, by CRD name.
var fluxCRDs = []string{
	"gitrepositories.source.toolkit.fluxcd.io",
	"ocirepositories.source.toolkit.fluxcd.io",
	"helmrepositories.source.toolkit.fluxcd.io",
	"helmcharts.source.toolkit.fluxcd.io",
	"buckets.source.toolkit.fluxcd.io",
	"kustomizations.kustomize.toolkit.fluxcd.io",
	"helmreleases.helm.toolkit.fluxcd.io",
	"receivers.notification.toolkit.fluxcd.io",
	"alerts.notification.toolkit.fluxcd.io",
	"providers.notification.toolkit.fluxcd.io",
	"imagerepositories.image.toolkit.fluxcd.io",
	"imagepolicies.image.toolkit.fluxcd.io",
	"imageupdateautomations.image.toolkit.fluxcd.io",
}

func TestAllCRDsEstablished(t *testing.T) {
	ctx := context.Background()
	for _, name := range fluxCRDs {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
			t.Errorf("CRD %s: %v", name, err)
			continue
		}
		if !cluster.Established(&crd) {
			t.Errorf("CRD %s is not Established: %+v", name, crd.Status.Conditions)
		}
	}
	var list apiextensionsv1.CustomResourceDefinitionList
	if err := env.Client.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, crd := range list.Items {
		if strings.HasSuffix(crd.Spec.Group, ".toolkit.fluxcd.io") {
			n++
		}
	}
	if n != len(fluxCRDs) {
		t.Errorf("API server has %d Flux CRDs, want %d", n, len(fluxCRDs))
	}
}

// TestReferenceRepositoryAccepted server-side dry-runs every Flux object of a real Flux user
// repository: the API server must accept all of them unchanged.
func TestReferenceRepositoryAccepted(t *testing.T) {
	shared := workspace.SharedDir()
	if shared == "" {
		t.Skip("../shared/reference is absent; skipping the reference repository check")
	}
	repo := filepath.Join(shared, "reference", "flux2-kustomize-helm-example")
	ctx := context.Background()
	patches, err := patchFiles(repo)
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	err = filepath.WalkDir(repo, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") || patches[path] {
			return err
		}
		objs, err := readObjects(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, obj := range objs {
			if !strings.HasSuffix(obj.GroupVersionKind().Group, ".toolkit.fluxcd.io") {
				continue
			}
			if obj.GetNamespace() == "" {
				obj.SetNamespace("flux-system")
			}
			ensureNamespace(t, obj.GetNamespace())
			if err := env.Client.Create(ctx, obj, client.DryRunAll); err != nil {
				rel, _ := filepath.Rel(repo, path)
				t.Errorf("%s: %s %s rejected: %v", rel, obj.GetKind(), obj.GetName(), err)
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d Flux objects found in %s; the walk is broken", checked, repo)
	}
	t.Logf("%d Flux objects accepted", checked)
}

// TestInvalidObjectsRejected checks that schema validation (patterns, enums, CEL rules) rejects
// bad objects with a message naming the field.
func TestInvalidObjectsRejected(t *testing.T) {
	ensureNamespace(t, "invalid")
	cases := []struct {
		name string
		obj  string
		want []string // substrings of the API server's error
	}{{
		name: "GitRepository interval not a duration",
		obj: `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: bad-interval}
spec: {url: https://example.com/repo, interval: 5 minutes}`,
		want: []string{"spec.interval", "should match"},
	}, {
		name: "GitRepository URL scheme",
		obj: `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: bad-url}
spec: {url: ftp://example.com/repo, interval: 5m}`,
		want: []string{"spec.url", "should match"},
	}, {
		name: "GitRepository verify mode out of enum",
		obj: `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: bad-verify}
spec: {url: https://example.com/repo, interval: 5m, verify: {mode: Everything, secretRef: {name: keys}}}`,
		want: []string{"spec.verify.mode", "Unsupported value"},
	}, {
		name: "Kustomization sourceRef kind out of enum",
		obj: `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-kind}
spec: {interval: 5m, prune: true, sourceRef: {kind: HelmRepository, name: x}}`,
		want: []string{"spec.sourceRef.kind", "Unsupported value"},
	}, {
		name: "Kustomization without required prune",
		obj: `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: no-prune}
spec: {interval: 5m, sourceRef: {kind: GitRepository, name: x}}`,
		want: []string{"spec.prune", "Required value"},
	}, {
		name: "HelmRelease with both chart and chartRef",
		obj: `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: both-charts}
spec:
  interval: 5m
  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}
  chartRef: {kind: OCIRepository, name: podinfo}`,
		want: []string{"either chart or chartRef must be set"},
	}, {
		name: "HelmRelease RemediateOnFailure upgrade strategy with retryInterval",
		obj: `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: bad-strategy}
spec:
  interval: 5m
  chartRef: {kind: OCIRepository, name: podinfo}
  upgrade: {strategy: {name: RemediateOnFailure, retryInterval: 1m}}`,
		want: []string{"spec.upgrade.strategy", ".retryInterval can only be set when .name is 'RetryOnFailure'"},
	}, {
		name: "HelmRelease RemediateOnFailure install strategy with retryInterval",
		obj: `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: bad-install-strategy}
spec:
  interval: 5m
  chartRef: {kind: OCIRepository, name: podinfo}
  install: {strategy: {name: RemediateOnFailure, retryInterval: 1m}}`,
		want: []string{"spec.install.strategy", ".retryInterval cannot be set when .name is 'RemediateOnFailure'"},
	}, {
		name: "generic-oidc Receiver without oidcProviders",
		obj: `apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: oidc}
spec: {type: generic-oidc, resources: [{kind: GitRepository, name: x}]}`,
		want: []string{"generic-oidc receivers must define at least one oidcProvider"},
	}, {
		name: "Receiver type out of enum",
		obj: `apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: bad-type}
spec: {type: myspace, secretRef: {name: token}, resources: [{kind: GitRepository, name: x}]}`,
		want: []string{"spec.type", "Unsupported value"},
	}, {
		name: "Provider type out of enum",
		obj: `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: bad-provider}
spec: {type: carrier-pigeon}`,
		want: []string{"spec.type", "Unsupported value"},
	}, {
		name: "Alert severity out of enum",
		obj: `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: bad-severity}
spec: {providerRef: {name: slack}, eventSeverity: debug, eventSources: [{kind: GitRepository, name: x}]}`,
		want: []string{"spec.eventSeverity", "Unsupported value"},
	}, {
		name: "OCIRepository URL without oci scheme",
		obj: `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: bad-oci}
spec: {url: https://ghcr.io/org/repo, interval: 5m}`,
		want: []string{"spec.url", "should match"},
	}, {
		name: "Bucket sts with generic provider",
		obj: `apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata: {name: bad-sts}
spec: {bucketName: b, endpoint: minio:9000, interval: 5m, provider: generic, sts: {provider: aws, endpoint: https://sts.amazonaws.com}}`,
		want: []string{"the 'generic' provider only supports the 'ldap' STS provider"},
	}, {
		name: "ImagePolicy with no policy choice",
		obj: `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: bad-policy}
spec: {imageRepositoryRef: {name: podinfo}, policy: {semver: {}}}`,
		want: []string{"spec.policy.semver.range", "Required value"},
	}, {
		name: "ImageUpdateAutomation strategy out of enum",
		obj: `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: bad-auto}
spec: {interval: 5m, sourceRef: {kind: GitRepository, name: x}, update: {strategy: Magic}}`,
		want: []string{"spec.update.strategy", "Unsupported value"},
	}}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := mustObject(t, tc.obj)
			obj.SetNamespace("invalid")
			err := env.Client.Create(ctx, obj, client.DryRunAll)
			if err == nil {
				t.Fatalf("%s %s was accepted; want rejection", obj.GetKind(), obj.GetName())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestDefaults checks defaults the API server applies, which controllers and the CLI rely on.
func TestDefaults(t *testing.T) {
	ensureNamespace(t, "defaults")
	ctx := context.Background()
	cases := []struct {
		obj  string
		want map[string]any // JSON path (dot separated) -> value
	}{{
		obj: `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: podinfo}
spec: {url: https://github.com/stefanprodan/podinfo, interval: 5m}`,
		want: map[string]any{"status.observedGeneration": int64(-1), "spec.timeout": "60s"},
	}, {
		obj: `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps}
spec: {interval: 5m, prune: true, sourceRef: {kind: GitRepository, name: podinfo}}`,
		want: map[string]any{"status.observedGeneration": int64(-1), "spec.force": false},
	}, {
		obj: `apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: github}
spec: {type: github, secretRef: {name: token}, resources: [{kind: GitRepository, name: podinfo}]}`,
		want: map[string]any{"status.observedGeneration": int64(-1), "spec.interval": "10m"},
	}, {
		obj: `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: slack}
spec: {providerRef: {name: slack}, eventSources: [{kind: GitRepository, name: podinfo}]}`,
		want: map[string]any{"spec.eventSeverity": "info"},
	}, {
		obj: `apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: podinfo}
spec: {image: ghcr.io/stefanprodan/podinfo, interval: 5m}`,
		want: map[string]any{"status.observedGeneration": int64(-1), "spec.provider": "generic"},
	}}
	for _, tc := range cases {
		obj := mustObject(t, tc.obj)
		obj.SetNamespace("defaults")
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("create %s: %v", obj.GetKind(), err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(obj.GroupVersionKind())
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatal(err)
		}
		for path, want := range tc.want {
			v, found, err := unstructured.NestedFieldNoCopy(got.Object, strings.Split(path, ".")...)
			if err != nil || !found || v != want {
				t.Errorf("%s %s: %s = %v (found %v), want %v", obj.GetKind(), obj.GetName(), path, v, found, want)
			}
		}
	}
}

// TestKubectlPrinterColumns runs the real kubectl against the API server and checks the
// columns users see match upstream Flux's.
func TestKubectlPrinterColumns(t *testing.T) {
	kubectl := filepath.Join(mustEnvAssets(t), "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl not found at %s: run `make testbin`", kubectl)
	}
	kubeconfig, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ensureNamespace(t, "columns")
	ctx := context.Background()
	for _, doc := range []string{
		`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: podinfo, namespace: columns}
spec: {url: https://github.com/stefanprodan/podinfo, interval: 5m}`,
		`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: columns}
spec: {interval: 5m, prune: true, sourceRef: {kind: GitRepository, name: podinfo}}`,
		`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: columns}
spec: {interval: 5m, chartRef: {kind: OCIRepository, name: podinfo}}`,
	} {
		if err := env.Client.Create(ctx, mustObject(t, doc)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "gitrepositories,kustomizations,helmreleases", "-n", "columns").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get: %v\n%s", err, out)
	}
	text := string(out)
	for _, header := range []string{
		"NAME                                       URL                                       AGE   READY   STATUS",
		"NAME                                    AGE   READY   STATUS",
		"NAME                                AGE   READY   STATUS",
	} {
		if !strings.Contains(normalizeSpaces(text), normalizeSpaces(header)) {
			t.Errorf("kubectl output lacks header %q:\n%s", header, text)
		}
	}
	for _, name := range []string{"gitrepository.source.toolkit.fluxcd.io/podinfo", "kustomization.kustomize.toolkit.fluxcd.io/apps", "helmrelease.helm.toolkit.fluxcd.io/podinfo", "https://github.com/stefanprodan/podinfo"} {
		if !strings.Contains(text, name) {
			t.Errorf("kubectl output lacks %q:\n%s", name, text)
		}
	}
	// Short names are part of the contract too.
	out, err = exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "gitrepo,ks,hr", "-n", "columns", "-o", "name").CombinedOutput()
	if err != nil || strings.Count(string(out), "\n") != 3 {
		t.Errorf("kubectl get gitrepo,ks,hr: %v\n%s", err, out)
	}
}

func normalizeSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

func mustEnvAssets(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	return filepath.Join(env.Root, "bin")
}

func mustObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("bad test YAML: %v", err)
	}
	return obj
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

// patchFiles returns the files that kustomization.yaml files under root use as patches: they
// hold partial objects, which only make sense merged into their target.
func patchFiles(root string) (map[string]bool, error) {
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "kustomization.yaml" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var k struct {
			Patches               []struct{ Path string } `json:"patches"`
			PatchesStrategicMerge []string                `json:"patchesStrategicMerge"`
		}
		if err := yaml.Unmarshal(b, &k); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, p := range k.Patches {
			if p.Path != "" {
				out[filepath.Join(filepath.Dir(path), p.Path)] = true
			}
		}
		for _, p := range k.PatchesStrategicMerge {
			out[filepath.Join(filepath.Dir(path), p)] = true
		}
		return nil
	})
	return out, err
}

func readObjects(path string) ([]*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}
