package alerts

import (
	"context"
	"errors"
	"fmt"
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/notification-controller/api/v1beta3"
)

func alert(ns, name string, spec v1beta3.AlertSpec) v1beta3.Alert {
	return v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func src(kind, name, ns string, labels map[string]string) v1beta3.CrossNamespaceObjectReference {
	return v1beta3.CrossNamespaceObjectReference{Kind: kind, Name: name, Namespace: ns, MatchLabels: labels}
}

func event(kind, ns, name, severity, msg string) *eventv1.Event {
	return &eventv1.Event{InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name}, Severity: severity, Message: msg}
}

func names(as []*v1beta3.Alert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

func TestMatch(t *testing.T) {
	alerts := []v1beta3.Alert{
		alert("apps", "all-ks", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("Kustomization", "*", "", nil)}}),
		alert("apps", "webapp-errors", v1beta3.AlertSpec{EventSeverity: "error", EventSources: []v1beta3.CrossNamespaceObjectReference{src("Kustomization", "webapp", "", nil)}}),
		alert("apps", "team-hr", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("HelmRelease", "*", "", map[string]string{"team": "app-dev"})}}),
		alert("apps", "succeeded-no-tests", v1beta3.AlertSpec{InclusionList: []string{".*succeeded.*"}, ExclusionList: []string{".*test.*"},
			EventSources: []v1beta3.CrossNamespaceObjectReference{src("HelmRelease", "*", "", nil)}}),
		alert("flux-system", "cross-ns", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("Kustomization", "webapp", "apps", nil)}}),
		alert("apps", "suspended", v1beta3.AlertSpec{Suspend: true, EventSources: []v1beta3.CrossNamespaceObjectReference{src("Kustomization", "*", "", nil)}}),
		alert("apps", "duplicate-sources", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{
			src("GitRepository", "*", "", nil), src("GitRepository", "podinfo", "", nil)}}),
	}
	labels := func(_ context.Context, o corev1.ObjectReference) (map[string]string, error) {
		if o.Name == "frontend" {
			return map[string]string{"team": "app-dev", "tier": "web"}, nil
		}
		return map[string]string{"team": "ops"}, nil
	}
	tests := []struct {
		name  string
		ev    *eventv1.Event
		noXNS bool
		want  string
	}{
		{"wildcard and name at info", event("Kustomization", "apps", "webapp", "info", "ok"), false, "[all-ks cross-ns]"},
		{"error reaches error alerts too", event("Kustomization", "apps", "webapp", "error", "boom"), false, "[all-ks webapp-errors cross-ns]"},
		{"other name", event("Kustomization", "apps", "other", "error", "boom"), false, "[all-ks]"},
		{"other namespace", event("Kustomization", "prod", "webapp", "error", "boom"), false, "[]"},
		{"other kind", event("Bucket", "apps", "webapp", "error", "boom"), false, "[]"},
		{"cross-namespace denied", event("Kustomization", "apps", "webapp", "info", "ok"), true, "[all-ks]"},
		{"trace reaches nothing", event("Kustomization", "apps", "webapp", "trace", "ok"), false, "[]"},
		{"labels match", event("HelmRelease", "apps", "frontend", "info", "upgrade succeeded"), false, "[team-hr succeeded-no-tests]"},
		{"labels differ", event("HelmRelease", "apps", "backend", "info", "upgrade succeeded"), false, "[succeeded-no-tests]"},
		{"exclusion beats inclusion", event("HelmRelease", "apps", "backend", "info", "test succeeded"), false, "[]"},
		{"inclusion required", event("HelmRelease", "apps", "backend", "info", "upgrade failed"), false, "[]"},
		{"alert listed once", event("GitRepository", "apps", "podinfo", "info", "fetched"), false, "[duplicate-sources]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, _ := NewIndex(alerts, Options{NoCrossNamespaceRefs: tt.noXNS})
			got, err := ix.Match(context.Background(), tt.ev, labels)
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(names(got)); s != tt.want {
				t.Errorf("Match = %s, want %s", s, tt.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	alerts := []v1beta3.Alert{
		alert("a", "bad-regex", v1beta3.AlertSpec{InclusionList: []string{"("}, EventSources: []v1beta3.CrossNamespaceObjectReference{src("Kustomization", "*", "", nil)}}),
		alert("a", "xns", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("Kustomization", "*", "b", nil), src("Kustomization", "*", "", nil)}}),
	}
	ix, problems := NewIndex(alerts, Options{NoCrossNamespaceRefs: true})
	if len(problems) != 2 || problems[0].Alert != "a/bad-regex" || problems[1].Alert != "a/xns" {
		t.Fatalf("problems = %v", problems)
	}
	if ix.Len() != 1 {
		t.Errorf("Len = %d, want 1 (xns stays with its same-namespace source)", ix.Len())
	}
	got, _ := ix.Match(context.Background(), event("Kustomization", "a", "x", "info", "m"), nil)
	if fmt.Sprint(names(got)) != "[xns]" {
		t.Errorf("Match = %v", names(got))
	}
}

func TestLabelsLookup(t *testing.T) {
	alerts := []v1beta3.Alert{
		alert("a", "by-label", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("HelmRelease", "*", "", map[string]string{"x": "y"})}}),
		alert("a", "by-label-2", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("HelmRelease", "*", "", map[string]string{"x": "y"})}}),
		alert("a", "plain", v1beta3.AlertSpec{EventSources: []v1beta3.CrossNamespaceObjectReference{src("HelmRelease", "*", "", nil)}}),
	}
	ix, _ := NewIndex(alerts, Options{})
	calls := 0
	got, err := ix.Match(context.Background(), event("HelmRelease", "a", "r", "info", "m"), func(context.Context, corev1.ObjectReference) (map[string]string, error) {
		calls++
		return map[string]string{"x": "y"}, nil
	})
	if err != nil || len(got) != 3 || calls != 1 {
		t.Errorf("got %v, err %v, %d lookups (want 3 alerts, 1 lookup)", names(got), err, calls)
	}
	got, err = ix.Match(context.Background(), event("HelmRelease", "a", "r", "info", "m"), func(context.Context, corev1.ObjectReference) (map[string]string, error) {
		return nil, errors.New("not found")
	})
	if err == nil || fmt.Sprint(names(got)) != "[plain]" {
		t.Errorf("with a failing lookup: %v, %v", names(got), err)
	}
}

// BenchmarkMatch1000Alerts: 1,000 Alerts over 100 namespaces and 5 kinds (wildcards, names,
// labels, regexes); per-event cost must stay in the microseconds.
func BenchmarkMatch1000Alerts(b *testing.B) {
	kinds := []string{"Kustomization", "HelmRelease", "GitRepository", "OCIRepository", "HelmChart"}
	var alerts []v1beta3.Alert
	for i := 0; i < 1000; i++ {
		ns := fmt.Sprintf("team-%d", i%100)
		spec := v1beta3.AlertSpec{
			EventSources: []v1beta3.CrossNamespaceObjectReference{
				src(kinds[i%5], "*", "", nil),
				src(kinds[(i+1)%5], fmt.Sprintf("app-%d", i), "", nil),
				src(kinds[(i+2)%5], "*", "", map[string]string{"team": ns}),
			},
			ExclusionList: []string{"waiting.*socket"},
		}
		if i%3 == 0 {
			spec.InclusionList = []string{".*succeeded.*", ".*failed.*"}
		}
		alerts = append(alerts, alert(ns, fmt.Sprintf("alert-%d", i), spec))
	}
	ix, problems := NewIndex(alerts, Options{})
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	ev := event("GitRepository", "team-42", "app-42", "info", "stored artifact for commit, fetch succeeded")
	labels := func(context.Context, corev1.ObjectReference) (map[string]string, error) {
		return map[string]string{"team": "team-42"}, nil
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, _ := ix.Match(ctx, ev, labels)
		if len(got) == 0 {
			b.Fatal("no match")
		}
	}
}
