package journeys_test

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// Labels kustomize-controller puts on every object it applies.
const (
	ownerNameLabel      = "kustomize.toolkit.fluxcd.io/name"
	ownerNamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"
)

// longInterval is the interval of objects whose reconciles the journeys trigger themselves:
// long enough that no periodic reconcile happens while a journey runs, so every reconcile
// seen is one the journey asked for.
const longInterval = 10 * time.Minute

// journey returns the shared environment and a context bounded by timeout for one journey,
// logging how long the journey took.
func journey(t *testing.T, timeout time.Duration) (*framework.Env, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("the journeys need the local cluster: skipped in -short mode")
	}
	if err := suite.start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(func() {
		cancel()
		t.Logf("journey %s took %s", t.Name(), time.Since(start).Round(time.Millisecond))
	})
	return suite.env, ctx
}

// kubectl runs the real kubectl against the cluster and returns its output; a failure fails
// the test with the output.
func kubectl(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	full := append([]string{"--kubeconfig", suite.env.Cluster.Kubeconfig}, args...)
	out, err := exec.CommandContext(ctx, suite.kubectl, full...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// requestReconcile asks for an immediate reconcile the way users do without the flux CLI:
// `kubectl annotate --overwrite <kind>/<name> reconcile.fluxcd.io/requestedAt=<token>`. It
// returns the token.
func requestReconcile(t *testing.T, ctx context.Context, namespace, resource string) string {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	kubectl(t, ctx, "-n", namespace, "annotate", "--overwrite", resource, framework.ReconcileRequestAnnotation+"="+token)
	return token
}

// createNamespace creates a namespace for one journey.
func createNamespace(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if err := suite.env.CreateNamespace(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// gitRepository is a GitRepository following the main branch of url.
func gitRepository(namespace, name, url string) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: sourcev1.GitRepositorySpec{
			URL:       url,
			Interval:  metav1.Duration{Duration: longInterval},
			Timeout:   &metav1.Duration{Duration: 20 * time.Second},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		},
	}
}

// kustomization is a pruning Kustomization of path in the source kind/name, in namespace.
func kustomization(namespace, name, kind, source, path string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: kustomizev1.KustomizationSpec{
			Interval:      metav1.Duration{Duration: longInterval},
			RetryInterval: &metav1.Duration{Duration: 10 * time.Second},
			Timeout:       &metav1.Duration{Duration: 2 * time.Minute},
			Path:          path,
			Prune:         true,
			SourceRef:     kustomizev1.CrossNamespaceSourceReference{Kind: kind, Name: source},
		},
	}
}

// apply server-side applies obj and fails the test on error.
func apply(t *testing.T, ctx context.Context, obj client.Object) {
	t.Helper()
	if err := suite.env.ApplyObject(ctx, obj); err != nil {
		t.Fatal(err)
	}
}

// configMap renders a ConfigMap manifest.
func configMap(namespace, name string, data map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n", name)
	if namespace != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", namespace)
	}
	b.WriteString("data:\n")
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %q\n", k, data[k])
	}
	return b.String()
}

// getConfigMap reads a ConfigMap; ok is false when it does not exist.
func getConfigMap(t *testing.T, ctx context.Context, namespace, name string) (cm *corev1.ConfigMap, ok bool) {
	t.Helper()
	cm = &corev1.ConfigMap{}
	err := suite.env.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm, true
}

// mustGet reads obj (namespace and name from its metadata) and fails the test on error.
func mustGet(t *testing.T, ctx context.Context, obj client.Object) {
	t.Helper()
	if err := suite.env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("get %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// notFound reports whether obj (namespace and name from its metadata) does not exist.
func notFound(ctx context.Context, obj client.Object) (bool, error) {
	err := suite.env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	return false, err
}

// inventoryID is the inventory entry id of an object ('<namespace>_<name>_<group>_<kind>'),
// written out here rather than taken from the controller's code so the format is checked.
func inventoryID(namespace, name, group, kind string) string {
	return namespace + "_" + name + "_" + group + "_" + kind
}

// inventoryIDs are the sorted entry ids of a Kustomization's inventory.
func inventoryIDs(ks *kustomizev1.Kustomization) []string {
	if ks.Status.Inventory == nil {
		return nil
	}
	ids := make([]string, 0, len(ks.Status.Inventory.Entries))
	for _, e := range ks.Status.Inventory.Entries {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	return ids
}

// ownedConfigMaps are the sorted inventory ids of the ConfigMaps in namespace that carry the
// owner labels of Kustomization namespace/name.
func ownedConfigMaps(t *testing.T, ctx context.Context, namespace, name string) []string {
	t.Helper()
	var list corev1.ConfigMapList
	if err := suite.env.Client.List(ctx, &list, client.InNamespace(namespace),
		client.MatchingLabels{ownerNameLabel: name, ownerNamespaceLabel: namespace}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(list.Items))
	for _, cm := range list.Items {
		ids = append(ids, inventoryID(cm.Namespace, cm.Name, "", "ConfigMap"))
	}
	sort.Strings(ids)
	return ids
}

// diffSets describes the difference between two sorted id lists, for failure messages.
func diffSets(want, got []string) string {
	in := func(s []string) map[string]bool {
		m := make(map[string]bool, len(s))
		for _, v := range s {
			m[v] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var missing, extra []string
	for _, v := range want {
		if !g[v] {
			missing = append(missing, v)
		}
	}
	for _, v := range got {
		if !w[v] {
			extra = append(extra, v)
		}
	}
	return fmt.Sprintf("missing %d %v, unexpected %d %v", len(missing), head(missing, 5), len(extra), head(extra, 5))
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}
