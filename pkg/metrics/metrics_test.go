package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gotk.dev/pkg/metrics"
)

// sample is one gathered series, flattened for comparison.
type sample struct {
	count uint64  // histogram sample count
	sum   float64 // histogram sum
	value float64 // gauge value
}

// gather returns the series of family in reg, keyed by their labels.
func gather(t *testing.T, reg *prometheus.Registry, family string) map[string]sample {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sample{}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			var names, values []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
				values = append(values, l.GetValue())
			}
			if got := strings.Join(names, ","); got != "kind,name,namespace" {
				t.Errorf("%s labels = %s, want kind,name,namespace", family, got)
			}
			key := strings.Join(values, ",")
			out[key] = sample{
				count: m.GetHistogram().GetSampleCount(),
				sum:   m.GetHistogram().GetSampleSum(),
				value: m.GetGauge().GetValue(),
			}
		}
	}
	return out
}

func TestRecorder(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := metrics.NewRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	r.RecordDuration("GitRepository", "flux-system", "podinfo", time.Now().Add(-1500*time.Millisecond))
	r.RecordDuration("GitRepository", "flux-system", "podinfo", time.Now())
	r.RecordDuration("Kustomization", "apps", "podinfo", time.Now())
	r.RecordSuspend("GitRepository", "flux-system", "podinfo", true)
	r.RecordSuspend("Kustomization", "apps", "podinfo", false)

	d := gather(t, reg, "gotk_reconcile_duration_seconds")
	git := d["GitRepository,podinfo,flux-system"]
	if git.count != 2 || git.sum < 1.5 || git.sum > 60 {
		t.Errorf("GitRepository duration: count %d sum %v, want 2 samples summing to about 1.5s", git.count, git.sum)
	}
	if d["Kustomization,podinfo,apps"].count != 1 {
		t.Errorf("Kustomization duration = %+v", d["Kustomization,podinfo,apps"])
	}
	s := gather(t, reg, "gotk_suspend_status")
	if s["GitRepository,podinfo,flux-system"].value != 1 || s["Kustomization,podinfo,apps"].value != 0 {
		t.Errorf("gotk_suspend_status = %+v", s)
	}

	// A second recorder on the same registry (two controllers in one test binary) shares
	// the collectors instead of failing.
	r2, err := metrics.NewRecorder(reg)
	if err != nil {
		t.Fatalf("second recorder: %v", err)
	}
	r2.RecordDuration("GitRepository", "flux-system", "podinfo", time.Now())
	if got := gather(t, reg, "gotk_reconcile_duration_seconds")["GitRepository,podinfo,flux-system"].count; got != 3 {
		t.Errorf("count after the second recorder = %d, want 3", got)
	}

	r.Forget("GitRepository", "flux-system", "podinfo")
	if _, ok := gather(t, reg, "gotk_reconcile_duration_seconds")["GitRepository,podinfo,flux-system"]; ok {
		t.Error("duration series still exported after Forget")
	}
	if _, ok := gather(t, reg, "gotk_suspend_status")["GitRepository,podinfo,flux-system"]; ok {
		t.Error("suspend series still exported after Forget")
	}
	if _, ok := gather(t, reg, "gotk_reconcile_duration_seconds")["Kustomization,podinfo,apps"]; !ok {
		t.Error("Forget removed another object's series")
	}
}

func TestRecorderConflictingRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gotk_reconcile_duration_seconds", Help: "something else",
	}, []string{"other"}))
	if _, err := metrics.NewRecorder(reg); err == nil {
		t.Error("NewRecorder succeeded although an incompatible collector owns the name")
	}
}
