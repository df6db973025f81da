package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/testenv"
)

// widgetCRD is a Flux-labelled CRD with an old and a new version of the same schema;
// storage says which one is stored.
func widgetCRD(storage string, versions ...string) string {
	var b strings.Builder
	fmt.Fprint(&b, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.migrate.toolkit.fluxcd.io
  labels: {app.kubernetes.io/part-of: flux}
spec:
  group: migrate.toolkit.fluxcd.io
  scope: Namespaced
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
`)
	for _, v := range versions {
		fmt.Fprintf(&b, `  - name: %s
    served: true
    storage: %t
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`, v, v == storage)
	}
	return b.String()
}

// TestMigrateCluster: objects written while v1beta1 was the storage version are rewritten at
// v1 with their managed fields, and v1beta1 leaves the CRD's storedVersions, after which the
// API server lets the CRD drop v1beta1 (it refuses while a stored version is listed).
func TestMigrateCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	kc, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	apply := func(doc, owner string) *unstructured.Unstructured {
		t.Helper()
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Patch(ctx, u, client.Apply, client.FieldOwner(owner), client.ForceOwnership); err != nil {
			t.Fatal(err)
		}
		return u
	}
	apply(widgetCRD("v1beta1", "v1beta1", "v1"), "test")
	widget := `apiVersion: migrate.toolkit.fluxcd.io/v1beta1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 3}
`
	// The CRD takes a moment to be served.
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		u := &unstructured.Unstructured{}
		_ = yaml.Unmarshal([]byte(widget), &u.Object)
		return env.Client.Patch(ctx, u, client.Apply, client.FieldOwner("kubectl")) == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	apply(widgetCRD("v1", "v1beta1", "v1"), "test")

	r := runFlux(t, "", "migrate", "--kubeconfig="+kc)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	wants(t, "stderr", r.stderr, "► starting migration of custom resources\n", "✔ Widget/default/w1 migrated to version v1\n",
		"✔ widgets.migrate.toolkit.fluxcd.io migrated to storage version v1\n", "✔ custom resources migrated successfully\n")
	w := &unstructured.Unstructured{}
	w.SetAPIVersion("migrate.toolkit.fluxcd.io/v1")
	w.SetKind("Widget")
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "w1"}, w); err != nil {
		t.Fatal(err)
	}
	for _, mf := range w.GetManagedFields() {
		if mf.APIVersion != "migrate.toolkit.fluxcd.io/v1" {
			t.Errorf("managed fields of %s still at %s", mf.Manager, mf.APIVersion)
		}
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "widgets.migrate.toolkit.fluxcd.io"}, crd); err != nil {
		t.Fatal(err)
	}
	if stored, _, _ := unstructured.NestedStringSlice(crd.Object, "status", "storedVersions"); strings.Join(stored, ",") != "v1" {
		t.Errorf("storedVersions = %v", stored)
	}
	apply(widgetCRD("v1", "v1"), "test")

	r = runFlux(t, "", "migrate", "--kubeconfig="+kc)
	if r.code != 0 || strings.Contains(r.stderr, "storage version") {
		t.Errorf("second run: exit %d\n%s", r.code, r.stderr)
	}
}
