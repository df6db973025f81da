package journeys_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// productionJourney is journey for the journeys on the production cluster: it starts only
// that cluster.
func productionJourney(t *testing.T, timeout time.Duration) (*framework.Env, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("the journeys need the local cluster: skipped in -short mode")
	}
	env := production.get(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(func() {
		cancel()
		t.Logf("journey %s took %s", t.Name(), time.Since(start).Round(time.Millisecond))
	})
	return env, ctx
}

// conditioned is a Flux object with status conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
}

// denial is one of team-b's attempts and the condition it must end in.
type denial struct {
	obj client.Object
	// reason is the Ready=False reason; stalled says the controller gave up (Stalled=True)
	// rather than retrying.
	reason  string
	stalled bool
	// says are substrings the Ready message must hold: what was refused and why.
	says []string
}

// TestMultiTenancy is the hard multi-tenancy journey (upstream's flux2-multi-tenancy on a
// locked-down cluster: --no-cross-namespace-refs, --no-remote-bases,
// --default-service-account=default). The platform repository (testdata/platform) orders
// infrastructure (a HelmRepository and a HelmRelease, waited for) before the platform's apps
// and its tenants; each tenant is onboarded with `flux create tenant` and `flux create source
// git / kustomization --export` output and reconciles its own repository
// (testdata/tenants) as its own service account. team-a's ConfigMap and HelmRelease are
// applied; every one of team-b's attempts to get out of its namespace (team-a's namespace,
// sources and Kustomization, a cluster-scoped object, the controller's identity with no
// service account, with the controller's account name and with a kubeconfig of the
// controller's files, for Kustomizations and HelmReleases, a remote base) ends in a
// condition that says what was refused, and nothing outside team-b is touched.
func TestMultiTenancy(t *testing.T) {
	t.Parallel()
	env, ctx := productionJourney(t, 6*time.Minute)
	p := bootstrappedPlatform(t, ctx, env)
	order := p.order

	ks := func(ns, name string) *kustomizev1.Kustomization {
		return namespaced(&kustomizev1.Kustomization{}, ns, name)
	}
	hr := func(ns, name string) *helmv2.HelmRelease { return namespaced(&helmv2.HelmRelease{}, ns, name) }
	platformKs := map[string]*kustomizev1.Kustomization{}
	for _, name := range []string{"flux-system", "infrastructure", "apps", "tenants"} {
		platformKs[name] = ks(framework.RuntimeNamespace, name)
		waitAppliedIn(t, ctx, env, platformKs[name], p.revision)
	}
	backend, frontend := hr(framework.RuntimeNamespace, "backend"), hr(framework.RuntimeNamespace, "frontend")
	for _, r := range []*helmv2.HelmRelease{backend, frontend} {
		waitIn(t, ctx, env, r, waitTime, "HelmRelease "+r.Name+" Ready", readyAnd(r, nil))
	}
	for _, team := range tenants {
		waitAppliedIn(t, ctx, env, ks(team, team), p.tenants[team])
		r := hr(team, "podinfo")
		waitIn(t, ctx, env, r, waitTime, "HelmRelease "+team+"/podinfo Ready", readyAnd(r, nil))
	}

	t.Run("platform dependency order", func(t *testing.T) {
		got, waited, closedEarly := order.snapshot()
		if closedEarly {
			t.Fatalf("the watch of Kustomizations ended early; Ready order so far: %v", got)
		}
		t.Logf("first Ready, in watch order: %v; DependencyNotReady on the way: %v", got, waited)
		for _, later := range []string{"apps", "tenants"} {
			if i, j := index(got, "infrastructure"), index(got, later); i < 0 || j < 0 || i > j {
				t.Errorf("%s became Ready before infrastructure (watch order %v)", later, got)
			}
		}
		// infrastructure waits for its HelmRelease (wait: true), and the frontend release
		// depends on the backend one.
		if b, i := readyTime(backend), readyTime(platformKs["infrastructure"]); i.Before(&b) {
			t.Errorf("infrastructure Ready at %s, before its HelmRelease backend at %s", i, b)
		}
		if b, f := readyTime(backend), readyTime(frontend); f.Before(&b) {
			t.Errorf("HelmRelease frontend Ready at %s, before backend (its dependency) at %s", f, b)
		}
		if err := env.WaitDeploymentAvailable(ctx, "apps", "frontend-podinfo", 10*time.Second); err != nil {
			t.Error(err)
		}
	})

	t.Run("tenants onboarded", func(t *testing.T) {
		for _, team := range tenants {
			var ns corev1.Namespace
			mustGetIn(t, ctx, env, namespaced(&ns, "", team))
			if ns.Labels["toolkit.fluxcd.io/tenant"] != team || ns.Labels[ownerNameLabel] != "tenants" {
				t.Errorf("Namespace %s labels %v, want the tenant label (flux create tenant) and the tenants Kustomization's", team, ns.Labels)
			}
			var rb rbacv1.RoleBinding
			mustGetIn(t, ctx, env, namespaced(&rb, team, team+"-reconciler"))
			if rb.RoleRef.Name != "cluster-admin" || len(rb.Subjects) != 2 {
				t.Errorf("RoleBinding %s/%s-reconciler: role %s subjects %+v", team, team, rb.RoleRef.Name, rb.Subjects)
			}
			tk := ks(team, team)
			mustGetIn(t, ctx, env, tk)
			if tk.Spec.ServiceAccountName != team {
				t.Errorf("Kustomization %s/%s serviceAccountName %q", team, team, tk.Spec.ServiceAccountName)
			}
			var cm corev1.ConfigMap
			mustGetIn(t, ctx, env, namespaced(&cm, team, "settings"))
			if cm.Data["owner"] != team || cm.Labels[ownerNameLabel] != team || cm.Labels[ownerNamespaceLabel] != team {
				t.Errorf("ConfigMap %s/settings data %v labels %v", team, cm.Data, cm.Labels)
			}
			if err := env.WaitDeploymentAvailable(ctx, team, "podinfo", 10*time.Second); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("hostile tenant denied", func(t *testing.T) {
		const sa = "system:serviceaccount:team-b:"
		denials := []denial{
			{obj: ks("team-b", "plant-in-team-a"), reason: "ReconciliationFailed",
				says: []string{"ConfigMap/team-a/planted-by-team-b", sa + "team-b", "forbidden"}},
			{obj: ks("team-b", "grant-cluster-admin"), reason: "ReconciliationFailed",
				says: []string{"ClusterRoleBinding/team-b-cluster-admin", sa + "team-b", "forbidden"}},
			{obj: ks("team-b", "read-team-a-source"), reason: "AccessDenied", stalled: true,
				says: []string{"GitRepository/team-a/team-a", "--no-cross-namespace-refs"}},
			{obj: ks("team-b", "no-service-account"), reason: "ReconciliationFailed",
				says: []string{"ConfigMap/team-b/applied-as-default", sa + "default", "forbidden"}},
			{obj: ks("team-b", "controller-account"), reason: "ReconciliationFailed",
				says: []string{"ClusterRoleBinding/team-b-cluster-admin", sa + "kustomize-controller", "forbidden"}},
			{obj: ks("team-b", "controller-kubeconfig"), reason: "ReconciliationFailed",
				says: []string{"controller-kubeconfig", "tokenFile refers to a file, which is not allowed"}},
			{obj: ks("team-b", "depends-on-team-a"), reason: "AccessDenied", stalled: true,
				says: []string{"team-a/team-a", "--no-cross-namespace-refs"}},
			// Health checks are read as the Kustomization's account too.
			{obj: ks("team-b", "probe-team-a"), reason: "HealthCheckFailed",
				says: []string{"spec.healthChecks[0] Deployment team-a/podinfo", sa + "team-b may not read it"}},
			{obj: ks("team-b", "remote-base"), reason: "BuildFailed",
				says: []string{"github.com/stefanprodan/podinfo", "remote"}},
			// The chart template lives next to its source: the refusal names the HelmChart
			// the HelmRelease would have to read in team-a, as upstream's does.
			{obj: hr("team-b", "chart-of-team-a"), reason: "AccessDenied", stalled: true,
				says: []string{"HelmChart/team-a/team-b-chart-of-team-a", "--no-cross-namespace-refs"}},
			// Its default account may not even read the release history in team-b.
			{obj: hr("team-b", "no-service-account"), reason: "StateError",
				says: []string{"storage namespace team-b", sa + "default", "forbidden"}},
			{obj: hr("team-b", "controller-kubeconfig"), reason: "ReconciliationFailed", stalled: true,
				says: []string{"controller-kubeconfig", "tokenFile refers to a file, which is not allowed"}},
			{obj: hr("team-b", "release-into-team-a"), reason: "InstallFailed",
				says: []string{sa + "team-b", "team-a", "forbidden"}},
		}
		for _, d := range denials {
			t.Run(kindOf(d.obj)+"/"+d.obj.GetName(), func(t *testing.T) {
				t.Parallel()
				waitDenied(t, ctx, env, d)
			})
		}
	})

	t.Run("nothing outside team-b touched", func(t *testing.T) {
		if gone, err := notFoundIn(ctx, env, namespaced(&corev1.ConfigMap{}, "team-a", "planted-by-team-b")); err != nil || !gone {
			t.Errorf("ConfigMap team-a/planted-by-team-b exists (err %v)", err)
		}
		if gone, err := notFoundIn(ctx, env, namespaced(&corev1.ConfigMap{}, "team-b", "applied-as-default")); err != nil || !gone {
			t.Errorf("ConfigMap team-b/applied-as-default exists: applied without a service account (err %v)", err)
		}
		if gone, err := notFoundIn(ctx, env, namespaced(&rbacv1.ClusterRoleBinding{}, "", "team-b-cluster-admin")); err != nil || !gone {
			t.Errorf("ClusterRoleBinding team-b-cluster-admin exists (err %v)", err)
		}
		var deployments appsv1.DeploymentList
		if err := env.Client.List(ctx, &deployments, client.InNamespace("team-a")); err != nil {
			t.Fatal(err)
		}
		if len(deployments.Items) != 1 || deployments.Items[0].Name != "podinfo" {
			var names []string
			for _, d := range deployments.Items {
				names = append(names, d.Name)
			}
			t.Errorf("Deployments in team-a: %v, want only team-a's podinfo", names)
		}
		var secrets corev1.SecretList
		if err := env.Client.List(ctx, &secrets, client.InNamespace("team-a"), client.MatchingLabels{"owner": "helm"}); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets.Items {
			if s.Labels["name"] != "podinfo" {
				t.Errorf("Helm release record %s in team-a is not team-a's", s.Name)
			}
		}
		release := hr("team-a", "podinfo")
		mustGetIn(t, ctx, env, release)
		if ok, why := framework.Readiness(release); !ok || len(release.Status.History) != 1 {
			t.Errorf("team-a's release after team-b's attempts: ready %v (%s), history %s", ok, why, describeHR(release))
		}
		var cm corev1.ConfigMap
		mustGetIn(t, ctx, env, namespaced(&cm, "team-a", "settings"))
		if cm.Data["owner"] != "team-a" {
			t.Errorf("ConfigMap team-a/settings changed: %v", cm.Data)
		}
		src := namespaced(&sourcev1.GitRepository{}, "team-a", "team-a")
		mustGetIn(t, ctx, env, src)
		if ok, why := framework.Readiness(src); !ok {
			t.Errorf("GitRepository team-a/team-a: %s", why)
		}
	})
}

// waitDenied waits until d's object reports Ready=False with d's reason and a message
// holding every one of d.says.
func waitDenied(t *testing.T, ctx context.Context, env *framework.Env, d denial) {
	t.Helper()
	kind := kindOf(d.obj)
	waitIn(t, ctx, env, d.obj, waitTime, fmt.Sprintf("%s %s/%s to be denied", kind, d.obj.GetNamespace(), d.obj.GetName()),
		func() (bool, string) {
			c := condition(d.obj.(conditioned), "Ready")
			if c == nil || c.Status != "False" {
				return false, fmt.Sprintf("Ready %+v", c)
			}
			if c.Reason != d.reason {
				return false, fmt.Sprintf("Ready=False reason %s (%s), want %s", c.Reason, c.Message, d.reason)
			}
			for _, s := range d.says {
				if !strings.Contains(c.Message, s) {
					return false, fmt.Sprintf("Ready=False message %q does not say %q", c.Message, s)
				}
			}
			if d.stalled {
				if s := condition(d.obj.(conditioned), "Stalled"); s == nil || s.Status != "True" {
					return false, fmt.Sprintf("Stalled %+v, want True (a spec change is needed)", s)
				}
			}
			return true, ""
		})
	t.Logf("%s %s/%s denied: %s", kind, d.obj.GetNamespace(), d.obj.GetName(),
		condition(d.obj.(conditioned), "Ready").Message)
}

// kindOf is the Go type name of obj, which is its kind for the API types.
func kindOf(obj client.Object) string { return reflect.TypeOf(obj).Elem().Name() }

// waitAppliedIn is waitApplied in the cluster of env.
func waitAppliedIn(t *testing.T, ctx context.Context, env *framework.Env, ks *kustomizev1.Kustomization, revision string) {
	t.Helper()
	waitIn(t, ctx, env, ks, waitTime, fmt.Sprintf("Kustomization %s/%s to apply %s", ks.Namespace, ks.Name, revision),
		readyAnd(ks, func() (bool, string) {
			if ks.Status.LastAppliedRevision != revision {
				return false, "lastAppliedRevision " + ks.Status.LastAppliedRevision
			}
			return true, ""
		}))
}

// mustGetIn is mustGet in the cluster of env.
func mustGetIn(t *testing.T, ctx context.Context, env *framework.Env, obj client.Object) {
	t.Helper()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("get %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// notFoundIn is notFound in the cluster of env.
func notFoundIn(ctx context.Context, env *framework.Env, obj client.Object) (bool, error) {
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if err == nil {
		return false, nil
	}
	return client.IgnoreNotFound(err) == nil, client.IgnoreNotFound(err)
}
