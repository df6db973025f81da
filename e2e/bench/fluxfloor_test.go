package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// checkFluxFloor checks that the Flux floor made exactly the writes it stands for, and that
// what it left looks like what the controllers left on the benchmark's own apps (namespace
// apps): the same status fields, conditions and event reasons.
func checkFluxFloor(ctx context.Context, t *testing.T, env *framework.Env, res *Result, n int) {
	t.Helper()
	ff := res.FluxFloor
	if ff == nil || ff.Install.ReadySeconds <= 0 || ff.Upgrade == nil || ff.Upgrade.ReadySeconds <= 0 {
		t.Fatalf("Flux floor %+v", ff)
	}
	const ks, oci = "kustomizations.kustomize.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io"
	for phase, want := range map[string]map[string]int64{
		"install": {"POST " + oci: 1, "POST " + ks: 1, "PATCH " + oci: 1, "PATCH " + ks: 1, "PATCH " + oci + "/status": 1,
			"PATCH " + ks + "/status": 1, "POST events": 3, "APPLY deployments.apps": 1, "APPLY services": 1},
		"upgrade": {"PATCH " + ks: 1, "PATCH " + ks + "/status": 1, "POST events": 2, "APPLY deployments.apps": 1, "APPLY ingresses.networking.k8s.io": 1},
	} {
		got := ff.APIRequests.Install.ByResource
		if phase == "upgrade" {
			got = ff.APIRequests.Upgrade.ByResource
		}
		for key, perApp := range want {
			if got[key] != perApp*int64(n) {
				t.Errorf("Flux floor %s: %d %q, want %d", phase, got[key], key, perApp*int64(n))
			}
		}
	}
	for _, pair := range []struct{ ours, floor client.Object }{
		{&kustomizev1.Kustomization{}, &kustomizev1.Kustomization{}},
		{&sourcev1.OCIRepository{}, &sourcev1.OCIRepository{}},
	} {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "apps", Name: appName(0)}, pair.ours); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "fluxfloor", Name: appName(0)}, pair.floor); err != nil {
			t.Fatal(err)
		}
		if ok, why := framework.Readiness(pair.floor); !ok {
			t.Errorf("Flux floor's %T not Ready: %s", pair.floor, why)
		}
		if o, f := shape(t, pair.ours), shape(t, pair.floor); !slices.Equal(o, f) {
			t.Errorf("%T: the Flux floor's status and finalizers\n%v\ndiffer from the controllers'\n%v", pair.floor, f, o)
		}
		if o, f := eventReasons(ctx, t, env, pair.ours), eventReasons(ctx, t, env, pair.floor); !slices.Equal(o, f) {
			t.Errorf("%T: the Flux floor posted events %v, the controllers %v", pair.floor, f, o)
		}
	}
	md := res.Markdown()
	for _, want := range []string{"times the Flux floor |", "| Flux floor install stage |", "Flux floor control plane CPU (upgrade)"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// shape is obj's finalizers, status field paths (list items merged) and condition types.
func shape(t *testing.T, obj client.Object) []string {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Metadata struct{ Finalizers []string }
		Status   map[string]any
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(prefix+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(prefix+"[]", e)
			}
		default:
			set[prefix] = true
		}
	}
	walk("status", m.Status)
	if conds, ok := m.Status["conditions"].([]any); ok {
		for _, c := range conds {
			set[fmt.Sprintf("condition %v=%v", c.(map[string]any)["type"], c.(map[string]any)["status"])] = true
		}
	}
	out := append([]string{}, m.Metadata.Finalizers...)
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// eventReasons are the distinct reasons of the events about obj.
func eventReasons(ctx context.Context, t *testing.T, env *framework.Env, obj client.Object) []string {
	t.Helper()
	var list corev1.EventList
	if err := env.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.UID == obj.GetUID() && !slices.Contains(out, e.Reason) {
			out = append(out, e.Reason)
		}
	}
	sort.Strings(out)
	return out
}

// checkAPICostSmoke runs --mode apicost's classes for 5 apps (a cluster whose controllers
// are stopped) and checks every class ran and was counted.
func checkAPICostSmoke(ctx context.Context, t *testing.T, env *framework.Env) {
	t.Helper()
	const n = 5
	res, err := RunAPICost(ctx, env, APICostConfig{N: n, Workers: 20, Namespace: "apicost", Settle: 100 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Classes) != 12 || res.Idle.Seconds <= 0 {
		t.Fatalf("apicost: %d classes, idle %+v", len(res.Classes), res.Idle)
	}
	for _, c := range res.Classes {
		if c.Requests < n || c.WallSeconds <= 0 || c.WindowSeconds < c.WallSeconds {
			t.Errorf("apicost class %+v", c)
		}
	}
	if got := res.Classes[6].APIRequests["POST events"]; got != n {
		t.Errorf("apicost class %q: %d POST events, want %d", res.Classes[6].Name, got, n)
	}
	if got := res.Classes[10].APIRequests["GET deployments.apps"]; got != n {
		t.Errorf("apicost class %q: %d GET deployments, want %d", res.Classes[10].Name, got, n)
	}
	t.Logf("apicost:\n%s", res.Markdown())
}
