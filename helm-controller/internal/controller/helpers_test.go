package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmrelease "helm.sh/helm/v3/pkg/release"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/testchart"
	"gotk.dev/pkg/artifact"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// k8s is the tests' own client (admin, not counted, no cache).
func k8s() client.Client { return suiteEnv.env.Client }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newNamespace(t testing.TB) string {
	t.Helper()
	return suiteEnv.env.NewNamespace(t, "hr")
}

// chartOf loads a test chart and applies changes to it (its version, values, ...).
func chartOf(t testing.TB, name string, mutate ...func(*chart.Chart)) *chart.Chart {
	t.Helper()
	c := testchart.Chart(t, name)
	for _, m := range mutate {
		m(c)
	}
	return c
}

func version(v string) func(*chart.Chart) { return func(c *chart.Chart) { c.Metadata.Version = v } }

// storeChart packages chrt as source-controller does and stores it as the artifact of the
// source kind/ns/name; revision "" means the chart version.
func storeChart(t testing.TB, kind, ns, name string, chrt *chart.Chart, revision string) *meta.Artifact {
	t.Helper()
	path, err := chartutil.Save(chrt, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := suiteEnv.storage.StoreReader(testCtx(t), artifact.ObjectRef{Kind: kind, Namespace: ns, Name: name}, f, ".tgz")
	if err != nil {
		t.Fatal(err)
	}
	a.Revision = revision
	if revision == "" {
		a.Revision = chrt.Metadata.Version
	}
	return a
}

// setArtifact records a as the source's artifact with Ready=True at its generation, as
// source-controller would.
func setArtifact(t testing.TB, src client.Object, a *meta.Artifact) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(src), src); err != nil {
			return err
		}
		cond := metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
			Message: "stored artifact for revision '" + a.Revision + "'", ObservedGeneration: src.GetGeneration(), LastTransitionTime: metav1.Now()}
		switch o := src.(type) {
		case *sourcev1.HelmChart:
			o.Status.Artifact, o.Status.ObservedGeneration, o.Status.Conditions = a, o.Generation, []metav1.Condition{cond}
		case *sourcev1.OCIRepository:
			o.Status.Artifact, o.Status.ObservedGeneration, o.Status.Conditions = a, o.Generation, []metav1.Condition{cond}
		}
		return k8s().Status().Update(testCtx(t), src)
	})
}

// helmChartSource creates a HelmChart serving chrt, as if source-controller had built it.
func helmChartSource(t testing.TB, ns, name string, chrt *chart.Chart) *sourcev1.HelmChart {
	t.Helper()
	hc := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmChartSpec{
			Chart:     chrt.Name(),
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"},
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if err := k8s().Create(testCtx(t), hc); err != nil {
		t.Fatal(err)
	}
	setArtifact(t, hc, storeChart(t, sourcev1.HelmChartKind, ns, name, chrt, ""))
	return hc
}

// hrOpt changes a HelmRelease before it is created.
type hrOpt func(*v2.HelmRelease)

// newHR creates a HelmRelease of the chart of the HelmChart ns/chartName, with a long
// interval so only watches, retries and requests drive it, and CRDs always brought to the
// chart's version (the test charts share one cluster-wide CRD).
func newHR(t testing.TB, ns, name, chartName string, opts ...hrOpt) *v2.HelmRelease {
	t.Helper()
	hr := &v2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			ChartRef: &v2.CrossNamespaceSourceReference{Kind: sourcev1.HelmChartKind, Name: chartName},
			Install:  &v2.Install{CRDs: v2.CreateReplace},
			Upgrade:  &v2.Upgrade{CRDs: v2.CreateReplace},
		},
	}
	for _, o := range opts {
		o(hr)
	}
	if err := k8s().Create(testCtx(t), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// withValues sets spec.values from YAML.
func withValues(y string) hrOpt {
	return func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues(y) }
}

func jsonValues(y string) *apiextensionsv1.JSON {
	b, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		panic(err)
	}
	return &apiextensionsv1.JSON{Raw: b}
}

func withTests(ignore bool) hrOpt {
	return func(hr *v2.HelmRelease) { hr.Spec.Test = &v2.Test{Enable: true, IgnoreFailures: ignore} }
}

func noWait(hr *v2.HelmRelease) {
	hr.Spec.Install.DisableWait = true
	hr.Spec.Upgrade.DisableWait = true
}

func getHR(t testing.TB, ns, name string) *v2.HelmRelease {
	t.Helper()
	hr, err := tryGetHR(t, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return hr
}

func tryGetHR(t testing.TB, ns, name string) (*v2.HelmRelease, error) {
	t.Helper()
	var hr v2.HelmRelease
	err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, &hr)
	return &hr, err
}

// updateHR changes a HelmRelease (retrying on conflicts).
func updateHR(t testing.TB, ns, name string, mutate func(*v2.HelmRelease)) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		hr := getHR(t, ns, name)
		mutate(hr)
		return k8s().Update(testCtx(t), hr)
	})
}

// annotate sets annotations as `flux reconcile` does and returns the token.
func annotate(t testing.TB, ns, name string, keys ...string) string {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	updateHR(t, ns, name, func(hr *v2.HelmRelease) {
		if hr.Annotations == nil {
			hr.Annotations = map[string]string{}
		}
		for _, k := range append([]string{meta.ReconcileRequestAnnotation}, keys...) {
			hr.Annotations[k] = token
		}
	})
	return token
}

// eventually polls cond every 100ms until it returns nil or timeout passes, then fails with
// its last error.
func eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func condition(hr *v2.HelmRelease, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(hr.Status.Conditions, typ)
}

// waitFor waits until check accepts the HelmRelease and returns it.
func waitFor(t testing.TB, ns, name string, timeout time.Duration, what string, check func(*v2.HelmRelease) bool) *v2.HelmRelease {
	t.Helper()
	var hr *v2.HelmRelease
	eventually(t, timeout, func() error {
		var err error
		if hr, err = tryGetHR(t, ns, name); err != nil {
			return err
		}
		if !check(hr) {
			return fmt.Errorf("%s/%s: waiting for %s, have %s", ns, name, what, describe(hr))
		}
		return nil
	})
	return hr
}

// waitReady waits until the HelmRelease is Ready=True for its generation.
func waitReady(t testing.TB, ns, name string, timeout time.Duration) *v2.HelmRelease {
	t.Helper()
	return waitFor(t, ns, name, timeout, "Ready=True", func(hr *v2.HelmRelease) bool {
		c := condition(hr, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionTrue && hr.Status.ObservedGeneration == hr.Generation
	})
}

// waitReadyReason waits until Ready has status and reason.
func waitReadyReason(t testing.TB, ns, name string, status metav1.ConditionStatus, reason string, timeout time.Duration) *v2.HelmRelease {
	t.Helper()
	return waitFor(t, ns, name, timeout, fmt.Sprintf("Ready=%s/%s", status, reason), func(hr *v2.HelmRelease) bool {
		c := condition(hr, meta.ReadyCondition)
		return c != nil && c.Status == status && c.Reason == reason
	})
}

// describe summarizes a HelmRelease's status for failure messages.
func describe(hr *v2.HelmRelease) string {
	var b strings.Builder
	fmt.Fprintf(&b, "generation %d observed %d, failures %d/%d/%d;", hr.Generation, hr.Status.ObservedGeneration,
		hr.Status.Failures, hr.Status.InstallFailures, hr.Status.UpgradeFailures)
	for _, c := range hr.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s (%s: %s);", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, h := range hr.Status.History {
		fmt.Fprintf(&b, " [%s %s %s]", h.FullReleaseName(), h.VersionedChartName(), h.Status)
	}
	return b.String()
}

// assertContains fails unless s contains every one of subs.
func assertContains(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q, want it to contain %q", what, s, sub)
		}
	}
}

// helmConfig is a Helm configuration as the helm CLI builds it (secret driver, storage in
// ns), to act out of band and to read what `helm list` and `helm history` show.
func helmConfig(t testing.TB, ns string) *helmaction.Configuration {
	t.Helper()
	cfg := &helmaction.Configuration{}
	if err := cfg.Init(kube.NewGetter(suiteEnv.env.Config, ns), ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// latestRelease is the newest record of release name in storage namespace ns (nil when none).
func latestRelease(t testing.TB, ns, name string) *helmrelease.Release {
	t.Helper()
	rls, err := helmConfig(t, ns).Releases.Last(name)
	if err != nil {
		return nil
	}
	return rls
}

// getObj reads an object by apiVersion/kind; nil when it does not exist.
func getObj(t testing.TB, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.FromAPIVersionAndKind(apiVersion, kind))
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return u
}

// deleteHR deletes a HelmRelease and waits until it is gone (its finalizer ran).
func deleteHR(t testing.TB, ns, name string) {
	t.Helper()
	if err := k8s().Delete(testCtx(t), &v2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		if _, err := tryGetHR(t, ns, name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("HelmRelease %s/%s still there (%v)", ns, name, err)
		}
		return nil
	})
}
