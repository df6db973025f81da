package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "gotk.dev/helm-controller/api/v2"
)

// TestBadInput: a chart that fails to render, values against the chart's schema and an
// invalid release name each give a condition naming the chart, the template file and the
// value at fault, and leave nothing behind: no release in the storage, no object.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	for _, tc := range []struct {
		name, values string
		want         []string
	}{
		{name: "fail", values: "failRender: true",
			want: []string{"Helm install failed for release " + ns + "/fail with chart widgets@1.0.0", "widgets/templates/configmap.yaml", "failRender is set"}},
		{name: "nilptr", values: "badTemplate: true",
			want: []string{"widgets@1.0.0", "widgets/templates/configmap.yaml", "nothing.here"}},
		{name: "schema", values: "size: zero",
			want: []string{"widgets@1.0.0", "values don't meet the specifications of the schema", "size", "integer"}},
	} {
		newHR(t, ns, tc.name, "widgets", withValues(tc.values))
		hr := waitReadyReason(t, ns, tc.name, metav1.ConditionFalse, v2.InstallFailedReason, 60*time.Second)
		assertContains(t, tc.name+" Ready message", condition(hr, meta.ReadyCondition).Message, tc.want...)
		if c := condition(hr, v2.ReleasedCondition); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v2.InstallFailedReason {
			t.Errorf("%s: Released = %+v", tc.name, c)
		}
		if rls := latestRelease(t, ns, tc.name); rls != nil {
			t.Errorf("%s: a release was written: %s", tc.name, rls.Info.Status)
		}
		if getObj(t, "v1", "ConfigMap", ns, tc.name+"-config") != nil {
			t.Errorf("%s: objects were applied", tc.name)
		}
		// Nothing was released, so nothing counts against the install retries.
		if hr.Status.InstallFailures != 0 {
			t.Errorf("%s: install failures = %d", tc.name, hr.Status.InstallFailures)
		}
	}

	// An invalid release name stalls, naming the field; one too long is refused by the API.
	newHR(t, ns, "badname", "widgets", func(hr *v2.HelmRelease) { hr.Spec.ReleaseName = "Not_Valid" })
	hr := stalled(t, ns, "badname", v2.InitFailedReason)
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message, `spec.releaseName "Not_Valid"`)
	long := &v2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "long"}, Spec: v2.HelmReleaseSpec{
		Interval: metav1.Duration{Duration: time.Hour}, ReleaseName: strings.Repeat("a", 54),
		ChartRef: &v2.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "widgets"}}}
	if err := k8s().Create(testCtx(t), long); err == nil || !strings.Contains(err.Error(), "spec.releaseName") {
		t.Errorf("a 54-character release name: %v", err)
	}
	// A composed name over 53 characters is shortened with a hash, as upstream does.
	name := "a-very-lengthy-object-name-for-a-helm-release-of-widgets"
	newHR(t, ns, name, "widgets", noWait)
	hr = waitReady(t, ns, name, 60*time.Second)
	if got := hr.Status.History.Latest().Name; len(got) != 53 || !strings.HasPrefix(got, name[:40]+"-") {
		t.Errorf("release name %q", got)
	}
}

// TestValuesFrom: values from ConfigMaps and Secrets, merged in upstream's order; a missing
// optional Secret is skipped; a missing required one is ValuesError naming the reference;
// a change to a ConfigMap labelled reconcile.fluxcd.io/watch: Enabled upgrades the
// release at once. Secret values never show in conditions.
func TestValuesFrom(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	helmChartSource(t, ns, "widgets", chartOf(t, "widgets"))
	newHR(t, ns, "app", "widgets", noWait, withValues("size: 3"), func(hr *v2.HelmRelease) {
		hr.Spec.ValuesFrom = []meta.ValuesReference{
			{Kind: "ConfigMap", Name: "app-values"},
			{Kind: "Secret", Name: "optional", Optional: true},
			{Kind: "Secret", Name: "app-secret", ValuesKey: "msg", TargetPath: "message"},
		}
	})
	hr := waitReadyReason(t, ns, "app", metav1.ConditionFalse, valuesErrorReason, 30*time.Second)
	assertContains(t, "Ready message", condition(hr, meta.ReadyCondition).Message, "spec.valuesFrom[0]: ConfigMap '"+ns+"/app-values': not found")

	watched := map[string]string{meta.LabelKeyWatch: meta.LabelValueWatchEnabled}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-values", Labels: watched},
		Data: map[string]string{"values.yaml": "size: 1\nmessage: from-configmap\nreplicas: 2\n"}}
	if err := k8s().Create(testCtx(t), cm); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-secret", Labels: watched},
		StringData: map[string]string{"msg": "s3cr3t-message"}}
	if err := k8s().Create(testCtx(t), secret); err != nil {
		t.Fatal(err)
	}
	// The labelled objects' creation woke the HelmRelease.
	hr = waitReady(t, ns, "app", 30*time.Second)
	rls := latestRelease(t, ns, "app")
	if rls.Config["size"] != float64(3) || rls.Config["message"] != "s3cr3t-message" || rls.Config["replicas"] != float64(2) {
		t.Errorf("composed values = %v", rls.Config)
	}
	for _, c := range hr.Status.Conditions {
		if strings.Contains(c.Message, "s3cr3t") {
			t.Errorf("secret value in condition %s: %s", c.Type, c.Message)
		}
	}

	// A watched ConfigMap changes: upgraded without waiting for the interval.
	cm.Data["values.yaml"] = "size: 1\nreplicas: 4\n"
	if err := k8s().Update(testCtx(t), cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ns, "app", 30*time.Second, "upgrade from the changed ConfigMap", func(hr *v2.HelmRelease) bool {
		return hr.Status.History.Latest().Version == 2 && isReady(hr)
	})
	if rls := latestRelease(t, ns, "app"); rls.Config["replicas"] != float64(4) {
		for _, e := range suiteEnv.events.InNamespace(ns) {
			t.Logf("event %s: %s", e.Reason, e.Message)
		}
		t.Errorf("values after the ConfigMap change = %v (v%d)", rls.Config, rls.Version)
	}
}
