package controller

import (
	"fmt"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/fluxcd/pkg/apis/meta"
	helmaction "helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// waitEvent waits until the event sink received an event of the HelmRelease with reason.
func waitEvent(t *testing.T, ns, name, reason string) eventv1.Event {
	t.Helper()
	var ev eventv1.Event
	eventually(t, 20*time.Second, func() error {
		evs := suiteEnv.events.Of(v2.HelmReleaseKind, ns, name, reason)
		if len(evs) == 0 {
			return fmt.Errorf("no %s event for %s/%s", reason, ns, name)
		}
		ev = evs[len(evs)-1]
		return nil
	})
	return ev
}

// TestLifecycle installs, tests, upgrades (values, then a new chart version) and, on
// deletion, uninstalls podinfo, checking what upstream documents at each step: conditions,
// history, events and their metadata, the storage `helm list` reads, and the objects.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	hc := helmChartSource(t, ns, "podinfo", chartOf(t, "podinfo"))
	newHR(t, ns, "podinfo", "podinfo", withTests(false), withValues("replicaCount: 1"))

	hr := waitReady(t, ns, "podinfo", 90*time.Second)
	ready := condition(hr, meta.ReadyCondition)
	if ready.Reason != v2.TestSucceededReason {
		t.Errorf("Ready reason = %s, want %s (%s)", ready.Reason, v2.TestSucceededReason, describe(hr))
	}
	assertContains(t, "Ready message", ready.Message, "Helm test succeeded for release "+ns+"/podinfo.v1 with chart podinfo@6.14.1", "test hooks completed successfully")
	if c := condition(hr, v2.ReleasedCondition); c == nil || c.Status != metav1.ConditionTrue || c.Reason != v2.InstallSucceededReason {
		t.Errorf("Released = %+v", c)
	}
	if len(hr.Status.History) != 1 || !hr.Status.History[0].HasBeenTested() || hr.Status.History[0].Status != "deployed" {
		t.Fatalf("history: %s", describe(hr))
	}
	snap := hr.Status.History[0]
	if hr.Status.LastAttemptedRevision != "6.14.1" || hr.Status.LastAttemptedConfigDigest != snap.ConfigDigest ||
		hr.Status.StorageNamespace != ns || hr.Status.LastAttemptedReleaseAction != v2.ReleaseActionInstall {
		t.Errorf("status: %+v", hr.Status)
	}
	if hr.Status.Inventory == nil || !hasEntry(hr, ns+"_podinfo_apps_Deployment") || !hasEntry(hr, ns+"_podinfo__Service") {
		t.Errorf("inventory = %+v", hr.Status.Inventory)
	}

	// The storage is Helm's: `helm list` and `helm history` show the release.
	list := helmaction.NewList(helmConfig(t, ns))
	rels, err := list.Run()
	if err != nil || len(rels) != 1 || rels[0].Name != "podinfo" || rels[0].Info.Status != helmrelease.StatusDeployed {
		t.Fatalf("helm list: %v %v", rels, err)
	}

	ev := waitEvent(t, ns, "podinfo", v2.InstallSucceededReason)
	if ev.Severity != eventv1.EventSeverityInfo || ev.Metadata["helm.toolkit.fluxcd.io/revision"] != "6.14.1" ||
		ev.Metadata["helm.toolkit.fluxcd.io/token"] != snap.ConfigDigest || ev.Metadata["helm.toolkit.fluxcd.io/app-version"] != "6.14.1" {
		t.Errorf("InstallSucceeded event: %+v", ev)
	}
	assertContains(t, "InstallSucceeded message", ev.Message, "Helm install succeeded for release "+ns+"/podinfo.v1 with chart podinfo@6.14.1")
	waitEvent(t, ns, "podinfo", v2.TestSucceededReason)
	var commitStatus int
	for _, e := range suiteEnv.events.Of(v2.HelmReleaseKind, ns, "podinfo", v2.TestSucceededReason) {
		if e.Metadata["helm.toolkit.fluxcd.io/commit_status"] == "update" {
			commitStatus++
		}
	}
	if commitStatus != 1 {
		t.Errorf("%d commit status events after the install, want 1", commitStatus)
	}

	// New values: an upgrade.
	updateHR(t, ns, "podinfo", func(hr *v2.HelmRelease) { hr.Spec.Values = jsonValues("replicaCount: 2") })
	hr = waitFor(t, ns, "podinfo", 90*time.Second, "upgrade to v2", func(hr *v2.HelmRelease) bool {
		return hr.Status.History.Latest().Version == 2 && isReady(hr)
	})
	if c := condition(hr, v2.ReleasedCondition); c.Reason != v2.UpgradeSucceededReason {
		t.Errorf("Released after upgrade = %+v", c)
	}
	var dep appsv1.Deployment
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "podinfo"}, &dep); err != nil || *dep.Spec.Replicas != 2 {
		t.Fatalf("deployment after upgrade: %v %v", err, dep.Spec.Replicas)
	}

	// A new chart version from the source: an upgrade, woken by the source's watch.
	setArtifact(t, hc, storeChart(t, sourcev1.HelmChartKind, ns, "podinfo", chartOf(t, "podinfo", version("6.14.2")), ""))
	hr = waitFor(t, ns, "podinfo", 90*time.Second, "chart 6.14.2", func(hr *v2.HelmRelease) bool {
		return hr.Status.History.Latest().ChartVersion == "6.14.2" && isReady(hr)
	})
	if hr.Status.LastAttemptedRevision != "6.14.2" || len(hr.Status.History) != 2 {
		t.Errorf("after the chart upgrade: %s", describe(hr))
	}

	// Deletion uninstalls the release.
	deleteHR(t, ns, "podinfo")
	if rls := latestRelease(t, ns, "podinfo"); rls != nil {
		t.Errorf("release still in storage after deletion: %s", rls.Info.Status)
	}
	if getObj(t, "apps/v1", "Deployment", ns, "podinfo") != nil {
		t.Error("Deployment left behind by the uninstall")
	}
	waitEvent(t, ns, "podinfo", v2.UninstallSucceededReason)
}

func isReady(hr *v2.HelmRelease) bool {
	c := condition(hr, meta.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && hr.Status.ObservedGeneration == hr.Generation
}

func hasEntry(hr *v2.HelmRelease, id string) bool {
	if hr.Status.Inventory == nil {
		return false
	}
	for _, e := range hr.Status.Inventory.Entries {
		if e.ID == id {
			return true
		}
	}
	return false
}
