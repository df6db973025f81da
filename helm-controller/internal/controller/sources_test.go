package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// ociSource creates an OCIRepository whose artifact is chrt, with revision
// "<version>@<digest>" as source-controller records it.
func ociSource(t *testing.T, ns, name string, chrtName, ver string) *sourcev1.OCIRepository {
	t.Helper()
	repo := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.OCIRepositorySpec{URL: "oci://registry.example.com/charts/" + chrtName,
			Reference: &sourcev1.OCIRepositoryRef{Tag: ver}, Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := k8s().Create(testCtx(t), repo); err != nil {
		t.Fatal(err)
	}
	pushOCI(t, repo, chrtName, ver, "")
	return repo
}

// pushOCI stores a new artifact of the chart for repo; a message changes its content.
func pushOCI(t *testing.T, repo *sourcev1.OCIRepository, chrtName, ver, message string) {
	t.Helper()
	c := chartOf(t, chrtName, version(ver))
	if message != "" {
		// The packaged chart keeps its files as they are (values.yaml included): change a
		// template so the artifact is another one.
		c.Templates[0].Data = append(c.Templates[0].Data, []byte("\n# "+message+"\n")...)
	}
	a := storeChart(t, sourcev1.OCIRepositoryKind, repo.Namespace, repo.Name, c, "")
	a.Revision = ver + "@" + a.Digest
	setArtifact(t, repo, a)
}

// TestOCIRepositoryChart: a chartRef to an OCIRepository releases the chart with the
// artifact digest as build metadata of its version, so a new push of the same version is
// an upgrade; the digest is recorded in the history and lastAttemptedRevisionDigest.
func TestOCIRepositoryChart(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	repo := ociSource(t, ns, "widgets", "widgets", "1.0.0")
	newHR(t, ns, "app", "", func(hr *v2.HelmRelease) {
		hr.Spec.ChartRef = &v2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "widgets"}
	})
	hr := waitReady(t, ns, "app", 60*time.Second)
	first := hr.Status.History.Latest()
	_, digest, _ := strings.Cut(repo.Status.Artifact.Revision, "@")
	if want := "1.0.0+" + strings.TrimPrefix(digest, "sha256:")[:12]; first.ChartVersion != want || hr.Status.LastAttemptedRevision != want {
		t.Errorf("chart version %q (last attempted %q), want %q", first.ChartVersion, hr.Status.LastAttemptedRevision, want)
	}
	if first.OCIDigest != digest || hr.Status.LastAttemptedRevisionDigest != digest {
		t.Errorf("OCI digest %q / %q, want %q", first.OCIDigest, hr.Status.LastAttemptedRevisionDigest, digest)
	}
	ev := waitEvent(t, ns, "app", v2.InstallSucceededReason)
	if ev.Metadata["helm.toolkit.fluxcd.io/oci-digest"] != digest {
		t.Errorf("event metadata %v", ev.Metadata)
	}

	// The same version pushed again with other content: an upgrade.
	pushOCI(t, repo, "widgets", "1.0.0", "repushed")
	hr = waitFor(t, ns, "app", 60*time.Second, "upgrade to the new digest", func(hr *v2.HelmRelease) bool {
		return hr.Status.History.Latest().Version == 2 && isReady(hr)
	})
	if hr.Status.History.Latest().ChartVersion == first.ChartVersion {
		t.Errorf("new digest, same chart version: %s", describe(hr))
	}

	// A tag that is not the chart's version is refused, as upstream does.
	a := storeChart(t, sourcev1.OCIRepositoryKind, ns, "widgets", chartOf(t, "widgets"), "")
	a.Revision = "latest@" + a.Digest
	setArtifact(t, repo, a)
	hr = waitReadyReason(t, ns, "app", metav1.ConditionFalse, chartMutateErrorReason, 30*time.Second)
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message, "artifact revision latest does not match chart version 1.0.0")
}

// TestDependsOn: a HelmRelease waits for its dependencies (DependencyNotReady) and is woken
// when they turn Ready; a readyExpr replaces the readiness check.
func TestDependsOn(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "frontend", "widgets", noWait, withValues("message: front"), func(hr *v2.HelmRelease) {
		hr.Spec.DependsOn = []meta.DependencyReference{{Name: "backend"}}
	})
	hr := waitReadyReason(t, ns, "frontend", metav1.ConditionFalse, v2.DependencyNotReadyReason, 30*time.Second)
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message, "backend")
	newHR(t, ns, "backend", "widgets", noWait, withValues("message: back"))
	// --requeue-dependency is 30s here: only the dependency's watch wakes it this fast.
	waitReady(t, ns, "frontend", 25*time.Second)

	newHR(t, ns, "lockstep", "widgets", noWait, withValues("message: back"), func(hr *v2.HelmRelease) {
		hr.Spec.DependsOn = []meta.DependencyReference{{Name: "frontend", ReadyExpr: "dep.spec.values.message == self.spec.values.message"}}
	})
	hr = waitReadyReason(t, ns, "lockstep", metav1.ConditionFalse, v2.DependencyNotReadyReason, 30*time.Second)
	updateHR(t, ns, "lockstep", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("message: front") })
	waitReady(t, ns, "lockstep", 30*time.Second)
	_ = hr
}

// TestCRDPolicies: CRDs in crds/ are created on install and, on upgrade, replaced with
// CreateReplace (before the release's objects are applied, so they may use the new schema)
// and left alone with Create (the default); they are never deleted. Not parallel: the test
// charts share one cluster-wide CRD, which the other tests replace at will.
func TestCRDPolicies(t *testing.T) {
	crdName := "widgets.test.gotk.dev"
	if crd := getObj(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crdName); crd != nil {
		if err := k8s().Delete(testCtx(t), crd); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, func() error {
			if getObj(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crdName) != nil {
				return fmt.Errorf("CRD %s not deleted yet", crdName)
			}
			return nil
		})
	}
	hasColor := func() bool {
		crd := getObj(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crdName)
		if crd == nil {
			t.Fatal("CRD not installed")
		}
		vs := crd.Object["spec"].(map[string]any)["versions"].([]any)
		props := vs[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)
		_, ok := props["color"]
		return ok
	}
	upgrade := func(ns, name string, policy v2.CRDsPolicy) {
		t.Helper()
		helmChartSource(t, ns, name, chartOf(t, "widgets"))
		newHR(t, ns, name, name, noWait, func(hr *v2.HelmRelease) { hr.Spec.Install.CRDs, hr.Spec.Upgrade.CRDs = v2.Create, policy })
		waitReady(t, ns, name, 60*time.Second)
		setArtifact(t, getHelmChart(t, ns, name), storeChart(t, sourcev1.HelmChartKind, ns, name, chartOf(t, "widgets-v2"), ""))
		waitFor(t, ns, name, 60*time.Second, "upgrade to widgets 2.0.0", func(hr *v2.HelmRelease) bool {
			return hr.Status.History.Latest().ChartVersion == "2.0.0" && isReady(hr)
		})
	}
	ns := newNamespace(t)
	upgrade(ns, "create", v2.Create)
	if hasColor() {
		t.Error("Create replaced the CRD on upgrade")
	}
	upgrade(ns, "replace", v2.CreateReplace)
	if !hasColor() {
		t.Error("CreateReplace did not replace the CRD before the upgrade")
	}
	w := getObj(t, "test.gotk.dev/v1", "Widget", ns, "replace-widget")
	if w == nil || fmt.Sprint(w.Object["spec"].(map[string]any)["color"]) != "blue" {
		t.Errorf("Widget of the upgrade: %v", w)
	}
	deleteHR(t, ns, "replace")
	if getObj(t, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crdName) == nil {
		t.Error("the uninstall deleted the CRD")
	}
}
