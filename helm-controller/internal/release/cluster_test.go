package release

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/drift"
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

// fixture is one HelmRelease in its own namespace with a Runner for it.
type fixture struct {
	t      *testing.T
	ns     string
	obj    *v2.HelmRelease
	runner *Runner
}

func newFixture(t *testing.T, name string, mutate ...func(*v2.HelmRelease)) *fixture {
	t.Helper()
	ns := env.NewNamespace(t, "hr")
	obj := &v2.HelmRelease{}
	obj.Name, obj.Namespace, obj.Generation = name, ns, 1
	// The test charts share one cluster-wide CRD: always bring it to the chart's version.
	obj.Spec.Install = &v2.Install{CRDs: v2.CreateReplace}
	obj.Spec.Upgrade = &v2.Upgrade{CRDs: v2.CreateReplace}
	for _, m := range mutate {
		m(obj)
	}
	factory := kube.NewFactory(env.Config, obj.GetReleaseNamespace(), obj.GetStorageNamespace(), kube.FactoryOptions{Persistent: obj.UsePersistentClient()})
	return &fixture{t: t, ns: ns, obj: obj, runner: &Runner{
		Factory: factory,
		Drift:   drift.NewDetector(env.Client, kube.FieldManager()),
	}}
}

// reconcile runs one reconciliation of chrt with values, as the reconciler will.
func (f *fixture) reconcile(chrt *chart.Chart, values map[string]interface{}, force bool) (Result, error) {
	f.t.Helper()
	PrepareAttempt(f.obj, chrt.Metadata.Version, ValuesDigest(values), false)
	res, err := f.runner.Reconcile(context.Background(), Request{Object: f.obj, Chart: chrt, Values: values, ForceRequested: force})
	f.t.Logf("reconcile: actions %v requeue=%v err=%v", res.Actions, res.Requeue, err)
	return res, err
}

// expect runs a reconciliation and checks the actions it ran and its error.
func (f *fixture) expect(chrt *chart.Chart, values map[string]interface{}, want []Action, wantErr error) Result {
	f.t.Helper()
	res, err := f.reconcile(chrt, values, false)
	switch {
	case wantErr == nil && err != nil:
		f.t.Fatalf("unexpected error: %v", err)
	case wantErr != nil && !errors.Is(err, wantErr) && err.Error() != wantErr.Error():
		f.t.Fatalf("error = %v, want %v", err, wantErr)
	}
	if !slices.Equal(res.Actions, want) {
		f.t.Fatalf("actions = %v, want %v", res.Actions, want)
	}
	return res
}

// helm is a Helm configuration as the helm CLI builds it (secret driver, storage in the
// release namespace), to act out of band.
func (f *fixture) helm() *helmaction.Configuration {
	f.t.Helper()
	cfg := &helmaction.Configuration{}
	if err := cfg.Init(kube.NewGetter(env.Config, f.ns), f.ns, "secret", f.t.Logf); err != nil {
		f.t.Fatal(err)
	}
	return cfg
}

// latest returns the newest record of the release in the storage.
func (f *fixture) latest() *release.Release {
	f.t.Helper()
	rls, err := f.helm().Releases.Last(f.obj.GetReleaseName())
	if err != nil {
		f.t.Fatal(err)
	}
	return rls
}

func (f *fixture) values() map[string]interface{} {
	f.t.Helper()
	v, err := helmaction.NewGetValues(f.helm()).Run(f.obj.GetReleaseName())
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) condition(typ string) (string, string) {
	c := apimeta.FindStatusCondition(f.obj.Status.Conditions, typ)
	if c == nil {
		return "", ""
	}
	return string(c.Status), c.Reason
}

func enableTests(ignore bool) func(*v2.HelmRelease) {
	return func(o *v2.HelmRelease) { o.Spec.Test = &v2.Test{Enable: true, IgnoreFailures: ignore} }
}

// TestLifecycle installs, tests and upgrades podinfo, and corrects every out-of-band
// change made with the Helm SDK (upgrade, rollback, uninstall).
func TestLifecycle(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "podinfo", enableTests(false))
	chrt := testchart.Chart(t, "podinfo")
	one := map[string]interface{}{"replicaCount": 1}
	two := map[string]interface{}{"replicaCount": 2}

	f.expect(chrt, one, []Action{Install, Test}, nil)
	if s := f.obj.Status.History.Latest(); s == nil || s.Version != 1 || s.Status != "deployed" || !s.HasBeenTested() || s.Action != "install" {
		t.Fatalf("history after install: %+v", s)
	}
	if st, reason := f.condition(v2.ReleasedCondition); st != "True" || reason != v2.InstallSucceededReason {
		t.Errorf("Released = %s/%s", st, reason)
	}
	if st, _ := f.condition(v2.TestSuccessCondition); st != "True" {
		t.Errorf("TestSuccess = %s", st)
	}
	if f.obj.Status.StorageNamespace != f.ns {
		t.Errorf("status.storageNamespace = %q", f.obj.Status.StorageNamespace)
	}
	f.expect(chrt, one, nil, nil)

	f.expect(chrt, two, []Action{Upgrade, Test}, nil)
	if h := f.obj.Status.History; len(h) != 2 || h[0].Version != 2 || h[1].Status != "superseded" {
		t.Fatalf("history after upgrade: %d entries", len(h))
	}

	// Out-of-band upgrade.
	up := helmaction.NewUpgrade(f.helm())
	up.Namespace = f.ns
	if _, err := up.Run("podinfo", chrt, map[string]interface{}{"replicaCount": 5}); err != nil {
		t.Fatal(err)
	}
	f.expect(chrt, two, []Action{Upgrade, Test}, nil)
	if v := f.values(); v["replicaCount"] != float64(2) && v["replicaCount"] != 2 {
		t.Fatalf("values after correcting an out-of-band upgrade: %v", v)
	}

	// Out-of-band rollback.
	rb := helmaction.NewRollback(f.helm())
	rb.Version = 1
	if err := rb.Run("podinfo"); err != nil {
		t.Fatal(err)
	}
	f.expect(chrt, two, []Action{Upgrade, Test}, nil)
	if rls := f.latest(); rls.Info.Status != release.StatusDeployed || rls.Config["replicaCount"] == float64(1) {
		t.Fatalf("after correcting an out-of-band rollback: %s %v", rls.Info.Status, rls.Config)
	}

	// Out-of-band uninstall.
	if _, err := helmaction.NewUninstall(f.helm()).Run("podinfo"); err != nil {
		t.Fatal(err)
	}
	f.expect(chrt, two, []Action{Install, Test}, nil)
	if rls := f.latest(); rls.Version != 1 || rls.Info.Status != release.StatusDeployed {
		t.Fatalf("reinstalled release: v%d %s", rls.Version, rls.Info.Status)
	}
}

// TestAdoption takes over a release installed with plain Helm.
func TestAdoption(t *testing.T) {
	needCluster(t)
	f := newFixture(t, "adopted")
	chrt := testchart.Chart(t, "podinfo")
	install := helmaction.NewInstall(f.helm())
	install.ReleaseName, install.Namespace = "adopted", f.ns
	if _, err := install.Run(chrt, nil); err != nil {
		t.Fatal(err)
	}
	f.expect(chrt, nil, []Action{Upgrade}, nil)
	if s := f.obj.Status.History.Latest(); s == nil || s.Version != 2 || s.Status != "deployed" {
		t.Fatalf("history after adoption: %+v", s)
	}
	f.expect(chrt, nil, nil, nil)
}

// TestDrift detects a kubectl edit and a deletion of release objects and corrects them
// (mode enabled) or only reports them (mode warn).
func TestDrift(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	chrt := testchart.Chart(t, "widgets")
	good := map[string]interface{}{"size": 1}
	edit := func(f *fixture) {
		t.Helper()
		dep := &appsv1.Deployment{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: f.obj.Name}, dep); err != nil {
			t.Fatal(err)
		}
		three := int32(3)
		dep.Spec.Replicas = &three
		if err := env.Client.Update(ctx, dep, client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{}
		cm.Name, cm.Namespace = f.obj.Name+"-config", f.ns
		if err := env.Client.Delete(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	replicas := func(f *fixture) int32 {
		dep := &appsv1.Deployment{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: f.obj.Name}, dep); err != nil {
			t.Fatal(err)
		}
		return *dep.Spec.Replicas
	}

	t.Run("enabled", func(t *testing.T) {
		f := newFixture(t, "drift", func(o *v2.HelmRelease) { o.Spec.DriftDetection = &v2.DriftDetection{Mode: v2.DriftDetectionEnabled} })
		f.expect(chrt, good, []Action{Install}, nil)
		f.expect(chrt, good, nil, nil)
		edit(f)
		res := f.expect(chrt, good, []Action{CorrectDrift}, nil)
		if !res.Drift.HasChanges() || len(res.Events) != 2 || res.Events[0].Reason != "DriftDetected" || res.Events[1].Reason != "DriftCorrected" {
			t.Fatalf("drift %s, events %+v", res.Drift.Summary(), res.Events)
		}
		if r := replicas(f); r != 1 {
			t.Fatalf("replicas = %d after correction", r)
		}
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "drift-config"}, cm); err != nil {
			t.Fatalf("deleted ConfigMap not recreated: %v", err)
		}
		f.expect(chrt, good, nil, nil)
	})
	t.Run("warn", func(t *testing.T) {
		f := newFixture(t, "warn", func(o *v2.HelmRelease) { o.Spec.DriftDetection = &v2.DriftDetection{Mode: v2.DriftDetectionWarn} })
		f.expect(chrt, good, []Action{Install}, nil)
		edit(f)
		res := f.expect(chrt, good, []Action{WarnDrift}, nil)
		if len(res.Events) != 1 || res.Events[0].Reason != "DriftDetected" || !strings.Contains(res.Events[0].Message, "Deployment/"+f.ns+"/warn changed") {
			t.Fatalf("events %+v", res.Events)
		}
		if r := replicas(f); r != 3 {
			t.Fatalf("warn mode changed the cluster: replicas = %d", r)
		}
	})
}

// TestTargetAndStorageNamespace releases into another namespace than the one holding the
// release records, under a composed release name too long for Helm that is shortened.
func TestTargetAndStorageNamespace(t *testing.T) {
	needCluster(t)
	target := env.NewNamespace(t, "hr")
	f := newFixture(t, "an-object-name-long-enough-to-need-shortening", func(o *v2.HelmRelease) { o.Spec.TargetNamespace = target })
	name := f.obj.GetReleaseName()
	if len(name) > 53 || !strings.HasPrefix(name, target+"-an-object") {
		t.Fatalf("release name %q", name)
	}
	f.expect(testchart.Chart(t, "podinfo"), nil, []Action{Install}, nil)
	if rls := f.latest(); rls.Name != name || rls.Namespace != target {
		t.Fatalf("record %s/%s in storage namespace %s", rls.Namespace, rls.Name, f.ns)
	}
	deps := &appsv1.DeploymentList{}
	if err := env.Client.List(context.Background(), deps, client.InNamespace(target)); err != nil || len(deps.Items) != 1 {
		t.Fatalf("objects not in the target namespace: %v %d", err, len(deps.Items))
	}
	if f.obj.Status.StorageNamespace != f.ns || f.obj.Status.History.Latest().Namespace != target {
		t.Fatalf("status: storage %q, history namespace %q", f.obj.Status.StorageNamespace, f.obj.Status.History.Latest().Namespace)
	}
	if reason := TargetChanged(f.obj, "podinfo"); reason != "" {
		t.Fatalf("target reported changed: %s", reason)
	}
}

// TestNonPersistentClient releases with fresh clients for every action
// (spec.persistentClient: false), CRDs and a kind they define included.
func TestNonPersistentClient(t *testing.T) {
	needCluster(t)
	off := false
	f := newFixture(t, "fresh", func(o *v2.HelmRelease) { o.Spec.PersistentClient = &off }, enableTests(false))
	chrt := testchart.Chart(t, "widgets")
	f.expect(chrt, map[string]interface{}{"size": 1}, []Action{Install, Test}, nil)
	f.expect(chrt, map[string]interface{}{"size": 2}, []Action{Upgrade, Test}, nil)
	f.expect(chrt, map[string]interface{}{"size": 2}, nil, nil)
}
