package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"gotk.dev/internal/testing/golden"
	"gotk.dev/internal/testing/testenv"
)

// TestCreateTenantExport compares flux create tenant --export with golden files; no cluster
// exists, and none is needed.
func TestCreateTenantExport(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"create-tenant-one-namespace", []string{"dev-team", "--with-namespace=apps"}},
		{"create-tenant-namespaces-labels-role", []string{"dev-team", "--with-namespace=frontend", "--with-namespace=backend,frontend",
			"--cluster-role=edit", "--label=environment=dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"create", "tenant"}, tt.args...)
			args = append(args, "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden.Assert(t, tt.golden, r.stdout)
		})
	}
}

// TestCreateTenantBadInput: wrong flags fail before anything reaches a cluster, naming the
// flag or value at fault.
func TestCreateTenantBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--with-namespace=apps"}, "✗ tenant name is required"},
		{[]string{"Dev_Team", "--with-namespace=apps"}, `✗ invalid tenant name "Dev_Team"`},
		{[]string{"dev-team"}, "✗ --with-namespace is required"},
		{[]string{"dev-team", "--with-namespace=apps.prod"}, `✗ invalid namespace "apps.prod"`},
		{[]string{"dev-team", "--with-namespace=apps", "--cluster-role="}, "✗ --cluster-role is required"},
		{[]string{"dev-team", "--with-namespace=apps", "--label=a=b c"}, `✗ invalid label value "b c"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"create", "tenant"}, tt.args...)
			args = append(args, "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			wants(t, "stderr", r.stderr, tt.want)
		})
	}
}

// TestCreateTenantLive applies a tenant to a real API server twice (the second time with
// another cluster role and label, which replaces the role binding), and checks with the
// API server's authorizer what the tenant's identities may do: everything in the tenant's
// namespaces, nothing cluster-scoped, nothing in another namespace.
func TestCreateTenantLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}

	r := runFlux(t, "", "create", "tenant", "team-a", "--with-namespace=team-a-apps,team-a-jobs", "--kubeconfig="+kubeconfig)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	wantStderr(t, r, `► applying namespace team-a-apps
► applying service account team-a
► applying role binding team-a-reconciler
► applying namespace team-a-jobs
► applying service account team-a
► applying role binding team-a-reconciler
✔ tenant setup completed
`)
	for _, ns := range []string{"team-a-apps", "team-a-jobs"} {
		n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Labels[tenantLabel] != "team-a" {
			t.Errorf("namespace %s labels %v", ns, n.Labels)
		}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "team-a", metav1.GetOptions{}); err != nil {
			t.Error(err)
		}
	}
	checkTenantAccess(t, ctx, env.Config, "team-a-apps")

	// Again with another role: the binding's roleRef cannot be updated, it is replaced.
	r = runFlux(t, "", "create", "tenant", "team-a", "--with-namespace=team-a-apps", "--cluster-role=view", "--label=tier=gold", "--kubeconfig="+kubeconfig)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rb, err := cs.RbacV1().RoleBindings("team-a-apps").Get(ctx, "team-a-reconciler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rb.RoleRef.Name != "view" || rb.Labels["tier"] != "gold" || rb.Labels[tenantLabel] != "team-a" {
		t.Errorf("role binding after the second run: roleRef %v labels %v", rb.RoleRef, rb.Labels)
	}
	if ok := allowed(t, ctx, env.Config, "system:serviceaccount:team-a-apps:team-a", "create", "", "configmaps", "team-a-apps"); ok {
		t.Error("with --cluster-role=view the tenant's service account may still create ConfigMaps")
	}
}

// checkTenantAccess asks the API server's authorizer what the tenant's reconciler user and
// service account may do.
func checkTenantAccess(t *testing.T, ctx context.Context, cfg *rest.Config, ns string) {
	t.Helper()
	for _, user := range []string{"gotk:" + ns + ":reconciler", "system:serviceaccount:" + ns + ":team-a"} {
		for _, c := range []struct {
			verb, group, resource, namespace string
			want                             bool
		}{
			{"create", "apps", "deployments", ns, true},
			{"create", "helm.toolkit.fluxcd.io", "helmreleases", ns, true},
			{"create", rbacv1.GroupName, "rolebindings", ns, true},
			{"create", "", "configmaps", "default", false},
			{"create", "", "namespaces", "", false},
			{"create", rbacv1.GroupName, "clusterrolebindings", "", false},
		} {
			if got := allowed(t, ctx, cfg, user, c.verb, c.group, c.resource, c.namespace); got != c.want {
				t.Errorf("%s %s %s.%s in %q: allowed %v, want %v", user, c.verb, c.resource, c.group, c.namespace, got, c.want)
			}
		}
	}
}

// allowed asks the authorizer (a SubjectAccessReview) whether user may do verb on resource.
func allowed(t *testing.T, ctx context.Context, cfg *rest.Config, user, verb, group, resource, namespace string) bool {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	if strings.HasPrefix(user, "system:serviceaccount:") {
		groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + strings.Split(user, ":")[2], "system:authenticated"}
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: namespace},
	}}
	got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Status.Allowed
}
