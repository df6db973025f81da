package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// fluxObject is what the tracker reads from every watched kind.
type fluxObject interface {
	client.Object
	GetConditions() []metav1.Condition
	GetObservedGeneration() int64
}

// tracker watches OCIRepositories, Kustomizations, HelmCharts and HelmReleases through informers (one LIST+WATCH
// per kind, no polling) and records when each object first became Ready at the generation
// the current phase waits for.
type tracker struct {
	cache     cache.Cache
	namespace string

	mu      sync.Mutex
	phase   map[string]*phase // by kind
	changed chan struct{}     // closed and replaced on every recorded transition
}

// phase is what one kind must reach: every listed name Ready at minGen or later.
type phase struct {
	minGen  map[string]int64
	readyAt map[string]time.Time
}

func startTracker(ctx context.Context, env *framework.Env, namespace string) (*tracker, error) {
	c, err := cache.New(env.Config, cache.Options{
		Scheme:            env.Scheme,
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
		DefaultTransform:  cache.TransformStripManagedFields(),
	})
	if err != nil {
		return nil, err
	}
	t := &tracker{cache: c, namespace: namespace, phase: map[string]*phase{}, changed: make(chan struct{})}
	for _, obj := range []client.Object{&sourcev1.OCIRepository{}, &kustomizev1.Kustomization{}, &sourcev1.HelmChart{}, &helmv2.HelmRelease{}} {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { t.observe(o) },
			UpdateFunc: func(_, o any) { t.observe(o) },
		}); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("informers for %s did not sync", namespace)
	}
	return t, nil
}

func kindOf(o client.Object) string {
	switch o.(type) {
	case *sourcev1.OCIRepository:
		return "OCIRepository"
	case *kustomizev1.Kustomization:
		return "Kustomization"
	case *sourcev1.HelmChart:
		return "HelmChart"
	case *helmv2.HelmRelease:
		return "HelmRelease"
	}
	return fmt.Sprintf("%T", o)
}

// ready reports whether obj is Ready=True at its current generation.
func ready(obj fluxObject) bool {
	if obj.GetObservedGeneration() != obj.GetGeneration() {
		return false
	}
	for _, c := range obj.GetConditions() {
		if c.Type == "Ready" {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

func (t *tracker) observe(o any) {
	obj, ok := o.(fluxObject)
	if !ok || !ready(obj) {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.phase[kindOf(obj)]
	if p == nil {
		return
	}
	name := obj.GetName()
	want, listed := p.minGen[name]
	if !listed || obj.GetGeneration() < want {
		return
	}
	if _, done := p.readyAt[name]; done {
		return
	}
	p.readyAt[name] = now
	close(t.changed)
	t.changed = make(chan struct{})
}

// expect starts a phase for kind: each name must become Ready at minGen[name] or later.
// Call it before creating or changing the objects, so no transition is missed.
func (t *tracker) expect(kind string, minGen map[string]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phase[kind] = &phase{minGen: minGen, readyAt: map[string]time.Time{}}
}

// wait blocks until every object of kind's phase is Ready and returns the time the last one
// became Ready. On timeout it names the objects still waiting and why.
func (t *tracker) wait(ctx context.Context, kind string, timeout time.Duration, progress func(done, total int)) (time.Time, error) {
	deadline := time.After(timeout)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		t.mu.Lock()
		p := t.phase[kind]
		done, total, changed := len(p.readyAt), len(p.minGen), t.changed
		var last time.Time
		for _, at := range p.readyAt {
			if at.After(last) {
				last = at
			}
		}
		t.mu.Unlock()
		if done == total {
			return last, nil
		}
		select {
		case <-changed:
		case <-tick.C:
			progress(done, total)
		case <-deadline:
			return time.Time{}, fmt.Errorf("%d of %d %ss not Ready after %s:\n%s", total-done, total, kind, timeout, t.describePending(ctx, kind))
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// describePending lists up to 10 objects still waiting with their Ready reason.
func (t *tracker) describePending(ctx context.Context, kind string) string {
	t.mu.Lock()
	var pending []string
	p := t.phase[kind]
	for name := range p.minGen {
		if _, ok := p.readyAt[name]; !ok {
			pending = append(pending, name)
		}
	}
	t.mu.Unlock()
	sort.Strings(pending)
	var b strings.Builder
	for i, name := range pending {
		if i == 10 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(pending)-10)
			break
		}
		obj := newFluxObject(kind)
		if err := t.cache.Get(ctx, client.ObjectKey{Namespace: t.namespace, Name: name}, obj); err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", name, err)
			continue
		}
		_, why := framework.Readiness(obj)
		fmt.Fprintf(&b, "  %s %s (generation %d): %s\n", kind, name, obj.GetGeneration(), why)
	}
	return b.String()
}

// generations returns the current generation of every object of kind in the cache.
func (t *tracker) generations(ctx context.Context, kind string) (map[string]int64, error) {
	out := map[string]int64{}
	switch kind {
	case "Kustomization":
		var l kustomizev1.KustomizationList
		if err := t.cache.List(ctx, &l); err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			out[o.Name] = o.Generation
		}
	case "OCIRepository":
		var l sourcev1.OCIRepositoryList
		if err := t.cache.List(ctx, &l); err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			out[o.Name] = o.Generation
		}
	case "HelmRelease":
		var l helmv2.HelmReleaseList
		if err := t.cache.List(ctx, &l); err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			out[o.Name] = o.Generation
		}
	}
	return out, nil
}

// newFluxObject is an empty object of a tracked kind.
func newFluxObject(kind string) fluxObject {
	switch kind {
	case "OCIRepository":
		return &sourcev1.OCIRepository{}
	case "HelmChart":
		return &sourcev1.HelmChart{}
	case "HelmRelease":
		return &helmv2.HelmRelease{}
	}
	return &kustomizev1.Kustomization{}
}
