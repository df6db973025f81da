package main

import (
	"strings"
	"testing"
	"time"

	"gotk.dev/pkg/timeline"
)

// TestBuildTimeline checks the stages of one app against hand-computed intervals: a
// Kustomization that waited for its source, applied, waited on health and was woken.
func TestBuildTimeline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	install := newMarks(t0)
	install.created["OCIRepository"] = map[string]time.Time{"app": at(0)}
	install.created["Kustomization"] = map[string]time.Time{"app": at(10)}
	install.ready["OCIRepository"] = map[string]time.Time{"app": at(1000)}
	install.ready["Kustomization"] = map[string]time.Time{"app": at(9000)}
	install.end = at(10000)
	spans := []timeline.Span{
		{Seq: 1, Kind: "OCIRepository", Name: "app", Queued: at(100), Start: at(400), End: at(900), Outcome: timeline.Ready,
			Steps: []timeline.Step{{Name: "source", Seconds: 0.2}}, StatusPatchSeconds: 0.1},
		// Before the source was Ready: waits.
		{Seq: 2, Kind: "Kustomization", Name: "app", Queued: at(20), Start: at(30), End: at(40), Outcome: timeline.Waiting},
		{Seq: 3, Kind: "Kustomization", Name: "app", Queued: at(1500), Start: at(4000), End: at(5000), Outcome: timeline.Progressing,
			Steps: []timeline.Step{{Name: "fetch", Seconds: 0.1}, {Name: "apply", Seconds: 0.5}}, StatusPatchSeconds: 0.2},
		{Seq: 4, Kind: "Kustomization", Name: "app", Queued: at(6000), Start: at(8000), End: at(8800), Outcome: timeline.Ready,
			Steps: []timeline.Step{{Name: "pending-health", Seconds: 0.001}}, StatusPatchSeconds: 0.3},
	}
	tl := buildTimeline(spans, install, nil, map[string]int{"kustomize-controller": 2, "source-controller": 1})
	got := map[string]float64{}
	for _, s := range tl.Install {
		if s.N != 1 || s.P50 != s.Max {
			t.Errorf("stage %+v: want one value", s)
		}
		got[s.Name] = s.P50
	}
	for name, want := range map[string]float64{
		"OCIRepository: created → Ready":       1,
		"OCIRepository: queue wait":            0.3,
		"OCIRepository: source":                0.2,
		"OCIRepository: patched → seen Ready":  0.1,
		"total: created → Kustomization Ready": 9,
		"reconciles per Kustomization":         3,
		"source Ready → queued":                0.5,
		"queue wait":                           2.5,
		"apply":                                0.5,
		"status patch (applied)":               0.2,
		"health wait (applied → woken)":        1,
		"health queue wait":                    2,
		"health recheck":                       0.5,
		"status patch (Ready)":                 0.3,
		"patched Ready → seen":                 0.2,
	} {
		if diff := got[name] - want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if len(tl.Busy) != 2 || tl.Busy[0].Controller != "kustomize-controller" || tl.Busy[0].Reconciles != 3 ||
		tl.Busy[0].Seconds < 1.809 || tl.Busy[0].Seconds > 1.811 {
		t.Errorf("busy %+v", tl.Busy)
	}
	var b strings.Builder
	tl.markdown(&b)
	for _, want := range []string{"| queue wait | 1 | 2.5s | 2.5s | 2.5s |", "| reconciles per Kustomization | 1 | 3 | 3 | 3 |", "| install | kustomize-controller | 3 | 1.8s | 9% |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}
