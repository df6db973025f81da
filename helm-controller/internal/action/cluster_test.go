package action

import (
	"context"
	"strings"
	"testing"
	"time"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/testchart"
	"gotk.dev/internal/testing/testenv"
)

var (
	server = testchart.Server(testenv.Options{})
	env    *testenv.Env
)

func TestMain(m *testing.M) { testenv.MainLazy(m, server) }

// needCluster makes env the package's API server, starting it on first use.
func needCluster(t *testing.T) {
	t.Helper()
	env = server.Get(t)
}

const widgetCRD = "widgets.test.gotk.dev"

func newHR(ns, name string) *v2.HelmRelease {
	obj := &v2.HelmRelease{}
	obj.Name, obj.Namespace = name, ns
	return obj
}

func config(t *testing.T, ns string) *helmaction.Configuration {
	t.Helper()
	cfg, err := kube.NewFactory(env.Config, ns, ns, kube.FactoryOptions{Persistent: true}).Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// crdHasColor tells whether the Widget CRD exists and knows spec.color.
func crdHasColor(t *testing.T) (exists, color bool) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: widgetCRD}, crd); err != nil {
		if apierrors.IsNotFound(err) {
			return false, false
		}
		t.Fatal(err)
	}
	_, color = crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["color"]
	return true, color
}

func deleteCRD(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	crd.Name = widgetCRD
	if err := env.Client.Delete(ctx, crd); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for exists, _ := crdHasColor(t); exists; exists, _ = crdHasColor(t) {
		if time.Now().After(deadline) {
			t.Fatal("CRD not deleted")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func widget(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "test.gotk.dev", Version: "v1", Kind: "Widget"})
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("get Widget %s/%s: %v", ns, name, err)
	}
	return u
}

// TestCRDPolicies walks the CRD policies on one cluster-wide CRD: Skip installs none,
// Create installs a missing one and leaves it alone on upgrade, CreateReplace replaces it
// before the upgrade applies objects that need the new schema.
func TestCRDPolicies(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	ns := env.NewNamespace(t, "hr")
	deleteCRD(t)
	v1chart, v2chart := testchart.Chart(t, "widgets"), testchart.Chart(t, "widgets-v2")

	skip := newHR(ns, "skip")
	skip.Spec.Install = &v2.Install{CRDs: v2.Skip}
	_, err := Install(ctx, config(t, ns), skip, v1chart, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "Widget") {
		t.Fatalf("install with crds: Skip and no CRD: error = %v, want one naming the Widget kind", err)
	}
	if exists, _ := crdHasColor(t); exists {
		t.Fatal("crds: Skip created the CRD")
	}

	obj := newHR(ns, "widgets")
	rls, err := Install(ctx, config(t, ns), obj, v1chart, nil, Options{})
	if err != nil {
		t.Fatalf("install with crds: Create: %v", err)
	}
	if rls.Info.Status != release.StatusDeployed {
		t.Fatalf("release status %s", rls.Info.Status)
	}
	if exists, color := crdHasColor(t); !exists || color {
		t.Fatalf("after install: CRD exists=%v color=%v, want the chart's v1 CRD", exists, color)
	}
	// The pre-install hook ran.
	hook := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "widgets-pre-hook"}, hook); err != nil {
		t.Fatalf("pre-install hook: %v", err)
	}

	obj.Spec.Upgrade = &v2.Upgrade{CRDs: v2.Create}
	if _, err := Upgrade(ctx, config(t, ns), obj, v2chart, nil, Options{}); err != nil {
		t.Logf("upgrade with crds: Create and the old CRD: %v", err)
	}
	if _, color := crdHasColor(t); color {
		t.Fatal("crds: Create replaced an existing CRD")
	}

	// A second release goes from the v1 to the v2 chart with CreateReplace. (The first
	// one cannot show it: its v2 Widget was already applied without the color, and Helm
	// only patches what changed between two manifests.)
	obj = newHR(ns, "replace")
	if _, err := Install(ctx, config(t, ns), obj, v1chart, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	obj.Spec.Upgrade = &v2.Upgrade{CRDs: v2.CreateReplace}
	rls, err = Upgrade(ctx, config(t, ns), obj, v2chart, nil, Options{})
	if err != nil {
		t.Fatalf("upgrade with crds: CreateReplace: %v", err)
	}
	if _, color := crdHasColor(t); !color {
		t.Fatal("crds: CreateReplace did not replace the CRD")
	}
	if c, _, _ := unstructured.NestedString(widget(t, ns, "replace-widget").Object, "spec", "color"); c != "blue" {
		t.Fatalf("Widget spec.color = %q: the CRD was not replaced before the upgrade applied the Widget", c)
	}
	if rls.Chart.Metadata.Version != "2.0.0" || rls.Info.Status != release.StatusDeployed {
		t.Fatalf("upgraded release: %s %s", rls.Chart.Metadata.Version, rls.Info.Status)
	}
	if hook := (&corev1.ConfigMap{}); env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "replace-pre-hook"}, hook) != nil || hook.Data["revision"] != "2" {
		t.Fatalf("pre-upgrade hook did not run for the upgrade: %v", hook.Data)
	}

	// CRDs are never deleted, not even by an uninstall.
	if _, err := Uninstall(ctx, config(t, ns), obj, obj.GetReleaseName(), Options{}); err != nil {
		t.Fatal(err)
	}
	if exists, _ := crdHasColor(t); !exists {
		t.Fatal("uninstall deleted the CRD")
	}
}

// TestStorageIsHelms installs with our configuration and reads the release back the way
// the helm CLI does (action.Configuration.Init with the secret driver, List, History).
func TestStorageIsHelms(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	ns := env.NewNamespace(t, "hr")
	obj := newHR(ns, "podinfo")
	obj.Spec.Values = nil
	if _, err := Install(ctx, config(t, ns), obj, testchart.Chart(t, "podinfo"), map[string]interface{}{"replicaCount": 2}, Options{}); err != nil {
		t.Fatal(err)
	}

	cli := &helmaction.Configuration{}
	if err := cli.Init(kube.NewGetter(env.Config, ns), ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	list, err := helmaction.NewList(cli).Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "podinfo" || list[0].Info.Status != release.StatusDeployed || list[0].Chart.Metadata.Version != "6.14.1" {
		t.Fatalf("helm list: %+v", list)
	}
	history, err := helmaction.NewHistory(cli).Run("podinfo")
	if err != nil || len(history) != 1 || history[0].Version != 1 {
		t.Fatalf("helm history: %v %+v", err, history)
	}
	values, err := helmaction.NewGetValues(cli).Run("podinfo")
	if err != nil || values["replicaCount"] != float64(2) {
		t.Fatalf("helm get values: %v %v", err, values)
	}
	// Every object of the release carries the origin labels.
	cm := &corev1.ServiceList{}
	if err := env.Client.List(ctx, cm, client.InNamespace(ns), client.MatchingLabels{v2.NameLabel: "podinfo", v2.NamespaceLabel: ns}); err != nil || len(cm.Items) != 1 {
		t.Fatalf("origin labels on the Service: %v %d", err, len(cm.Items))
	}
}

// TestBadInput checks that errors point at what to fix.
func TestBadInput(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	ns := env.NewNamespace(t, "hr")
	chrt := testchart.Chart(t, "widgets")
	tests := []struct {
		name   string
		values map[string]interface{}
		mutate func(*v2.HelmRelease)
		want   []string
	}{
		{"template error names file and line", map[string]interface{}{"badTemplate": true}, nil,
			[]string{"widgets/templates/configmap.yaml:11:", "nil pointer"}},
		{"fail in a template", map[string]interface{}{"failRender": true}, nil, []string{"failRender is set"}},
		{"values against values.schema.json", map[string]interface{}{"size": 0}, nil, []string{"/size", "minimum"}},
		{"release name too long", nil, func(o *v2.HelmRelease) { o.Spec.ReleaseName = strings.Repeat("r", 60) }, []string{"spec.releaseName", "53"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := newHR(ns, "bad"+string(rune('a'+i)))
			obj.Spec.Install = &v2.Install{CRDs: v2.CreateReplace}
			if tt.mutate != nil {
				tt.mutate(obj)
			}
			_, err := Install(ctx, config(t, ns), obj, chrt, tt.values, Options{})
			if err == nil {
				t.Fatal("install succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	// disableSchemaValidation lets the same values through.
	obj := newHR(ns, "noschema")
	obj.Spec.Install = &v2.Install{DisableSchemaValidation: true, CRDs: v2.CreateReplace}
	if _, err := Install(ctx, config(t, ns), obj, chrt, map[string]interface{}{"size": 0}, Options{}); err != nil {
		t.Fatalf("install with disableSchemaValidation: %v", err)
	}
}

// TestHelmWait: without Options.HelmWait an install returns as soon as the objects are
// applied (no kube-controller-manager runs here, so the Deployment never becomes ready);
// with it, Helm waits unless the spec disables waiting.
func TestHelmWait(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	ns := env.NewNamespace(t, "hr")
	chrt := testchart.Chart(t, "widgets")
	short := &metav1.Duration{Duration: 2 * time.Second}
	install := func(name string, disableWait, helmWait bool) error {
		obj := newHR(ns, name)
		obj.Spec.Install = &v2.Install{CRDs: v2.CreateReplace, Timeout: short, DisableWait: disableWait}
		_, err := Install(ctx, config(t, ns), obj, chrt, nil, Options{HelmWait: helmWait})
		return err
	}
	if err := install("nowait", false, false); err != nil {
		t.Fatalf("install without Helm's wait: %v", err)
	}
	if err := install("disabled", true, true); err != nil {
		t.Fatalf("install with Helm's wait disabled by the spec: %v", err)
	}
	start := time.Now()
	if err := install("wait", false, true); err == nil || time.Since(start) < short.Duration {
		t.Fatalf("Helm's wait did not block for the unready Deployment: %v after %s", err, time.Since(start))
	}
}

// TestSpecOptions checks spec options that change what lands in the cluster.
func TestSpecOptions(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	ns := env.NewNamespace(t, "hr")
	chrt := testchart.Chart(t, "widgets")
	getCM := func(namespace, name string) (*corev1.ConfigMap, error) {
		cm := &corev1.ConfigMap{}
		return cm, env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cm)
	}

	t.Run("createNamespace", func(t *testing.T) {
		target := ns + "-created"
		obj := newHR(ns, "created")
		obj.Spec.TargetNamespace = target
		obj.Spec.Install = &v2.Install{CRDs: v2.CreateReplace, CreateNamespace: true}
		if _, err := Install(ctx, config(t, target), obj, chrt, nil, Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := getCM(target, obj.GetReleaseName()+"-config"); err != nil {
			t.Fatalf("object in the created namespace: %v", err)
		}
	})
	t.Run("disableHooks", func(t *testing.T) {
		obj := newHR(ns, "nohooks")
		obj.Spec.Install = &v2.Install{CRDs: v2.CreateReplace, DisableHooks: true}
		if _, err := Install(ctx, config(t, ns), obj, chrt, nil, Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := getCM(ns, "nohooks-pre-hook"); !apierrors.IsNotFound(err) {
			t.Fatalf("pre-install hook ran with disableHooks: %v", err)
		}
	})
	t.Run("preserveValues", func(t *testing.T) {
		obj := newHR(ns, "preserve")
		obj.Spec.Install = &v2.Install{CRDs: v2.CreateReplace}
		if _, err := Install(ctx, config(t, ns), obj, chrt, map[string]interface{}{"message": "kept"}, Options{}); err != nil {
			t.Fatal(err)
		}
		obj.Spec.Upgrade = &v2.Upgrade{PreserveValues: true}
		rls, err := Upgrade(ctx, config(t, ns), obj, chrt, map[string]interface{}{"size": 2}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rls.Config["message"] != "kept" || rls.Config["size"] != 2 {
			t.Fatalf("values after upgrade with preserveValues: %v", rls.Config)
		}
		obj.Spec.Upgrade = &v2.Upgrade{}
		if rls, err = Upgrade(ctx, config(t, ns), obj, chrt, map[string]interface{}{"size": 3}, Options{}); err != nil || rls.Config["message"] != nil {
			t.Fatalf("values after upgrade without preserveValues: %v %v", err, rls.Config)
		}
	})
}
