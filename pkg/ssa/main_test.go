package ssa

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/testenv"
)

// apiServer is the API server of this package's tests, started by the first test that needs
// one (unit and fuzz tests never do) and stopped by TestMain.
var apiServer testenv.Lazy

// cluster returns the shared API server, starting it on first use.
func cluster(tb testing.TB) *testenv.Env { return apiServer.Get(tb) }

func TestMain(m *testing.M) {
	code := m.Run()
	apiServer.Stop()
	os.Exit(code)
}

var testOwner = Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"}

// counter records the requests that go through a client: instrumentation of the real
// transport, not a fake.
type counter struct {
	mu   sync.Mutex
	reqs []string
}

type countingTransport struct {
	next http.RoundTripper
	c    *counter
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	line := req.Method + " " + req.URL.Path
	if dry := req.URL.Query().Get("dryRun"); dry != "" {
		line += "?dryRun=" + dry
	}
	t.c.mu.Lock()
	t.c.reqs = append(t.c.reqs, line)
	t.c.mu.Unlock()
	return t.next.RoundTrip(req)
}

// take returns the requests recorded since the last call and forgets them.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reqs
	c.reqs = nil
	return out
}

// countingClient returns a client whose requests are recorded, optionally impersonating user.
func countingClient(t *testing.T, impersonate string) (client.Client, *counter) {
	t.Helper()
	cfg := rest.CopyConfig(cluster(t).Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: impersonate}
	cnt := &counter{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingTransport{next: rt, c: cnt} })
	c, err := client.New(cfg, client.Options{Scheme: cluster(t).Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, cnt
}

// warm makes the client's RESTMapper know the kinds of objs, as the long-lived mapper of a
// controller does, so that request counts show the apply's own requests.
func warm(t *testing.T, c client.Client, cnt *counter, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		if _, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			t.Fatal(err)
		}
	}
	cnt.take()
}

// newNamespace creates a namespace for one test and deletes it at the end.
func newNamespace(t *testing.T) string {
	t.Helper()
	return newNamespaceB(t, cluster(t).Client)
}

func newNamespaceB(tb testing.TB, c client.Client) string {
	tb.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "ssa-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Delete(context.Background(), ns) })
	return ns.Name
}

// objects parses multi-document YAML, replacing NS with ns.
func objects(t testing.TB, ns, manifests string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(strings.ReplaceAll(manifests, "NS", ns))), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if err == io.EOF {
				return out
			}
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// live reads an object from the cluster with the admin client.
func live(t *testing.T, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := cluster(t).Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// actions returns "Kind/ns/name action" lines of a change set.
func actions(cs *ChangeSet) []string {
	if cs == nil {
		return nil
	}
	out := make([]string, 0, len(cs.Entries))
	for _, e := range cs.Entries {
		out = append(out, e.String())
	}
	return out
}

func assertActions(t *testing.T, cs *ChangeSet, want ...string) {
	t.Helper()
	got := actions(cs)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("change set:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// assertRequests compares the requests since the last take with want, in any order (objects
// are applied concurrently).
func assertRequests(t *testing.T, cnt *counter, want ...string) {
	t.Helper()
	got := cnt.take()
	sort.Strings(got)
	want = slices.Clone(want)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests (%d):\n%s\nwant (%d):\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

var (
	deploymentGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	configMapGVK  = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

// grantServiceAccount creates a service account allowed verbs on the core resources in ns
// only, and returns the user name to impersonate it.
func grantServiceAccount(t *testing.T, ns string, resources, verbs []string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "applier", Namespace: ns}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "applier", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: resources, Verbs: verbs}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "applier", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "applier"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "applier", Namespace: ns}}}
	for _, o := range []client.Object{sa, role, binding} {
		if err := cluster(t).Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return "system:serviceaccount:" + ns + ":applier"
}

func schemaService() schema.GroupVersionKind {
	return schema.GroupVersionKind{Version: "v1", Kind: "Service"}
}

// widgetCRD is the definition of a Widget kind in group, served as v1, whose spec has size
// and the properties in extra (lines indented as spec's properties, e.g.
// "              color: {type: string}\n").
func widgetCRD(group, extra string) string {
	return strings.ReplaceAll(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.GROUP
spec:
  group: GROUP
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`+extra, "GROUP", group)
}
