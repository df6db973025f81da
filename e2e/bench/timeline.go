package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gotk.dev/pkg/timeline"
)

// Timeline is where the time of each phase went, object by object: for every app the
// benchmark knows when it created (or patched) the objects and when it saw them Ready; the
// controllers' spans (package timeline) say when each request became ready in the work queue,
// when a worker took it, how long each step and the status patch took. Each stage is the
// distribution of one of those intervals over the N apps.
type Timeline struct {
	Install []Stage `json:"install"`
	Upgrade []Stage `json:"upgrade,omitempty"`
	// Busy is, per controller and phase, the fraction of its workers' time spent in
	// reconciles (sum of span durations / (--concurrent x phase duration)).
	Busy []Busy `json:"busy"`
	// MissedSpans counts spans the controllers dropped before the benchmark read them; the
	// stages then lack those objects' reconciles.
	MissedSpans uint64   `json:"missedSpans,omitempty"`
	Errors      []string `json:"errors,omitempty"`
}

// Stage is the distribution of one interval over the apps (seconds).
type Stage struct {
	Name string  `json:"name"`
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	Max  float64 `json:"max"`
}

// Busy is one controller's worker use in one phase.
type Busy struct {
	Phase      string  `json:"phase"`
	Controller string  `json:"controller"`
	Reconciles int     `json:"reconciles"`
	Seconds    float64 `json:"seconds"`
	Fraction   float64 `json:"fraction"`
}

// marks are the benchmark's own observations in one phase, by app name.
type marks struct {
	mu    sync.Mutex
	start time.Time
	end   time.Time
	// created is when the create (install) or patch (upgrade) of each kind was sent.
	created map[string]map[string]time.Time // kind -> name -> time
	// ready is when each object was seen Ready (the tracker's record).
	ready map[string]map[string]time.Time
}

func newMarks(start time.Time) *marks {
	return &marks{start: start, created: map[string]map[string]time.Time{}, ready: map[string]map[string]time.Time{}}
}

// sent records that the create or patch of kind/name is about to be sent.
func (m *marks) sent(kind, name string) {
	if m == nil {
		return
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.created[kind] == nil {
		m.created[kind] = map[string]time.Time{}
	}
	m.created[kind][name] = now
}

// stageSet collects intervals under stage names, keeping the order stages first appear in.
type stageSet struct {
	order  []string
	values map[string][]float64
}

func (s *stageSet) add(name string, d time.Duration) {
	if s.values == nil {
		s.values = map[string][]float64{}
	}
	if _, ok := s.values[name]; !ok {
		s.order = append(s.order, name)
	}
	s.values[name] = append(s.values[name], d.Seconds())
}

func (s *stageSet) stages() []Stage {
	out := make([]Stage, 0, len(s.order))
	for _, name := range s.order {
		v := s.values[name]
		sort.Float64s(v)
		out = append(out, Stage{Name: name, N: len(v), P50: percentile(v, 50), P90: percentile(v, 90), Max: v[len(v)-1]})
	}
	return out
}

// spanIndex holds the spans of one phase by kind and name, in start order.
type spanIndex map[string]map[string][]timeline.Span

func indexSpans(spans []timeline.Span, from, to time.Time) spanIndex {
	idx := spanIndex{}
	for _, s := range spans {
		if s.Start.Before(from) || s.Start.After(to) {
			continue
		}
		if idx[s.Kind] == nil {
			idx[s.Kind] = map[string][]timeline.Span{}
		}
		idx[s.Kind][s.Name] = append(idx[s.Kind][s.Name], s)
	}
	for _, byName := range idx {
		for _, l := range byName {
			sort.Slice(l, func(i, j int) bool { return l[i].Seq < l[j].Seq })
		}
	}
	return idx
}

// readySpan is the first span that ended Ready; work is the last span up to it that ran
// step (the one whose work the Ready reports), or the ready span itself without step.
func readySpan(spans []timeline.Span, step string) (work, ready *timeline.Span) {
	for i := range spans {
		s := &spans[i]
		if step == "" || hasStep(s, step) {
			work = s
		}
		if s.Outcome == timeline.Ready {
			if work == nil {
				work = s
			}
			return work, s
		}
	}
	return nil, nil
}

func hasStep(s *timeline.Span, name string) bool {
	for _, st := range s.Steps {
		if st.Name == name {
			return true
		}
	}
	return false
}

// nonNegative clamps intervals between clocks read by different processes, which can
// disagree by the time an event takes to cross a watch.
func nonNegative(d time.Duration) time.Duration { return max(d, 0) }

// sourceStages are the OCIRepositories' intervals: created → Ready split into the wait for a
// worker, the steps and the status patch of the reconcile that made it Ready.
func sourceStages(set *stageSet, m *marks, idx spanIndex) {
	const kind = "OCIRepository"
	for name, created := range m.created[kind] {
		ready, ok := m.ready[kind][name]
		if !ok {
			continue
		}
		set.add(kind+": created → Ready", ready.Sub(created))
		_, s := readySpan(idx[kind][name], "")
		if s == nil {
			continue
		}
		if !s.Queued.IsZero() {
			set.add(kind+": created → queued", nonNegative(s.Queued.Sub(created)))
			set.add(kind+": queue wait", s.Start.Sub(s.Queued))
		}
		for _, st := range s.Steps {
			set.add(kind+": "+st.Name, secs(st.Seconds))
		}
		set.add(kind+": status patch", secs(s.StatusPatchSeconds))
		set.add(kind+": patched → seen Ready", nonNegative(ready.Sub(s.End)))
	}
}

// kustomizationStages are the Kustomizations' intervals from the moment they could start
// (their source Ready and themselves created, or patched in the upgrade) until seen Ready.
func kustomizationStages(set *stageSet, m *marks, idx spanIndex, install bool) {
	const kind = "Kustomization"
	for name, created := range m.created[kind] {
		ready, ok := m.ready[kind][name]
		if !ok {
			continue
		}
		from := created
		if install {
			srcCreated := m.created["OCIRepository"][name]
			set.add("total: created → Kustomization Ready", ready.Sub(srcCreated))
			if srcReady, ok := m.ready["OCIRepository"][name]; ok && srcReady.After(from) {
				from = srcReady
			}
		} else {
			set.add("total: patched → Kustomization Ready", ready.Sub(created))
		}
		spans := idx[kind][name]
		set.add("reconciles per Kustomization", time.Duration(len(spans))*time.Second)
		work, done := readySpan(spans, "apply")
		if work == nil {
			continue
		}
		start := "source Ready → queued"
		if !install {
			start = "patched → queued"
		}
		if !work.Queued.IsZero() {
			set.add(start, nonNegative(work.Queued.Sub(from)))
			set.add("queue wait", work.Start.Sub(work.Queued))
		}
		for _, st := range work.Steps {
			set.add(st.Name, secs(st.Seconds))
		}
		set.add("status patch (applied)", secs(work.StatusPatchSeconds))
		if done != work {
			if !done.Queued.IsZero() {
				set.add("health wait (applied → woken)", nonNegative(done.Queued.Sub(work.End)))
				set.add("health queue wait", done.Start.Sub(done.Queued))
			} else {
				set.add("health wait (applied → woken)", nonNegative(done.Start.Sub(work.End)))
			}
			set.add("health recheck", done.End.Sub(done.Start)-secs(done.StatusPatchSeconds))
			set.add("status patch (Ready)", secs(done.StatusPatchSeconds))
		}
		set.add("patched Ready → seen", nonNegative(ready.Sub(done.End)))
	}
}

// busy sums each controller's reconcile time in the phase.
func busy(phase string, spans []timeline.Span, from, to time.Time, concurrency map[string]int) []Busy {
	byCtrl := map[string]*Busy{}
	for _, s := range spans {
		if s.End.Before(from) || s.Start.After(to) {
			continue
		}
		ctrl := controllerOfKind(s.Kind)
		b := byCtrl[ctrl]
		if b == nil {
			b = &Busy{Phase: phase, Controller: ctrl}
			byCtrl[ctrl] = b
		}
		b.Reconciles++
		start, end := s.Start, s.End
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		b.Seconds += end.Sub(start).Seconds()
	}
	var out []Busy
	for _, name := range sortedKeys(byCtrl) {
		b := byCtrl[name]
		if c := concurrency[name]; c > 0 && to.After(from) {
			b.Fraction = b.Seconds / (float64(c) * to.Sub(from).Seconds())
		}
		out = append(out, *b)
	}
	return out
}

func controllerOfKind(kind string) string {
	switch kind {
	case "Kustomization":
		return "kustomize-controller"
	case "HelmRelease":
		return "helm-controller"
	}
	return "source-controller"
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// buildTimeline computes the stages of the install (and upgrade) phase from the marks and
// every span collected.
func buildTimeline(spans []timeline.Span, install, upgrade *marks, concurrency map[string]int) *Timeline {
	t := &Timeline{}
	var set stageSet
	idx := indexSpans(spans, install.start, install.end)
	sourceStages(&set, install, idx)
	kustomizationStages(&set, install, idx, true)
	t.Install = set.stages()
	t.Busy = busy("install", spans, install.start, install.end, concurrency)
	if upgrade != nil {
		var set stageSet
		kustomizationStages(&set, upgrade, indexSpans(spans, upgrade.start, upgrade.end), false)
		t.Upgrade = set.stages()
		t.Busy = append(t.Busy, busy("upgrade", spans, upgrade.start, upgrade.end, concurrency)...)
	}
	return t
}

// markdown renders the stages as one table per phase.
func (t *Timeline) markdown(b *strings.Builder) {
	if t == nil {
		return
	}
	b.WriteString("\nTimeline: each row is one interval's distribution over the apps, from the benchmark's own " +
		"observations (created or patched, seen Ready) and the controllers' reconcile spans (/debug/reconciles: " +
		"when the request became ready in the work queue, when a worker took it, steps, status patch) of the " +
		"reconcile that applied and the one that found it Ready. Reconcile counts are shown as numbers.\n")
	for _, phase := range []struct {
		name   string
		stages []Stage
	}{{"install", t.Install}, {"upgrade", t.Upgrade}} {
		if len(phase.stages) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n| %s stage | n | p50 | p90 | max |\n|---|---|---|---|---|\n", phase.name)
		for _, s := range phase.stages {
			f := ms
			if strings.HasPrefix(s.Name, "reconciles per") {
				f = func(v float64) string { return fmt.Sprintf("%.0f", v) }
			}
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s |\n", s.Name, s.N, f(s.P50), f(s.P90), f(s.Max))
		}
	}
	if len(t.Busy) > 0 {
		b.WriteString("\n| phase | controller | reconciles | worker time | workers busy |\n|---|---|---|---|---|\n")
		for _, w := range t.Busy {
			fmt.Fprintf(b, "| %s | %s | %d | %.1fs | %.0f%% |\n", w.Phase, w.Controller, w.Reconciles, w.Seconds, 100*w.Fraction)
		}
	}
	if t.MissedSpans > 0 || len(t.Errors) > 0 {
		fmt.Fprintf(b, "\nSpans missed: %d; read errors: %s\n", t.MissedSpans, strings.Join(t.Errors, "; "))
	}
}

func ms(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}
