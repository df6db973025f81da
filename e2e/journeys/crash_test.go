package journeys_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	crashNS   = "crash"
	crashFile = "bulk/configmaps.yaml"
)

// crashSet is one revision's ConfigMaps: <prefix>-000 ... <prefix>-<n-1>.
type crashSet struct {
	prefix string
	n      int
}

// manifests renders the set as one multi-document file.
func (s crashSet) manifests() string {
	docs := make([]string, s.n)
	for i := range s.n {
		docs[i] = configMap(crashNS, fmt.Sprintf("%s-%03d", s.prefix, i), map[string]string{"index": fmt.Sprint(i), "set": s.prefix})
	}
	return strings.Join(docs, "---\n")
}

// ids are the sorted inventory ids of the set.
func (s crashSet) ids() []string {
	ids := make([]string, s.n)
	for i := range s.n {
		ids[i] = inventoryID(crashNS, fmt.Sprintf("%s-%03d", s.prefix, i), "", "ConfigMap")
	}
	slices.Sort(ids)
	return ids
}

// count is how many of ids belong to the set.
func (s crashSet) count(ids []string) int {
	n := 0
	for _, id := range ids {
		if strings.HasPrefix(id, crashNS+"_"+s.prefix+"-") {
			n++
		}
	}
	return n
}

// TestKustomizeControllerCrash is journey 6: kustomize-controller gets SIGKILL in the middle
// of a large revision and is restarted, twice: while applying 300 new ConfigMaps (killed as
// soon as the first appears), and while pruning them when the next revision replaces them
// (killed at the first deletion). Each time the cluster converges to the revision with no
// orphans: the ConfigMaps carrying the Kustomization's owner labels are exactly those of its
// inventory, which are exactly those of the revision.
//
// It kills a controller every journey shares, so it does not run in parallel.
func TestKustomizeControllerCrash(t *testing.T) {
	env, ctx := journey(t, 3*time.Minute)
	kc, err := env.Controller("kustomize-controller")
	if err != nil {
		t.Fatal(err)
	}
	createNamespace(t, ctx, crashNS)
	repo, err := env.CreateGitRepo("crash")
	if err != nil {
		t.Fatal(err)
	}
	old, bulk, final := crashSet{"old", 50}, crashSet{"new", 300}, crashSet{"final", 20}
	first, err := repo.Commit(map[string]string{crashFile: old.manifests()}, "old set")
	if err != nil {
		t.Fatal(err)
	}
	src := gitRepository(crashNS, "crash", repo.HTTPURL)
	apply(t, ctx, src)
	ks := kustomization(crashNS, "crash", sourcev1.GitRepositoryKind, "crash", "./bulk")
	apply(t, ctx, ks)
	waitApplied(t, ctx, ks, repo.Revision(first), time.Minute)

	c := &crasher{t: t, ctx: ctx, env: env, kc: kc, repo: repo, ks: ks}

	// Killed while applying: the first new ConfigMap exists.
	atKill := c.killDuring(bulk, func(ev watch.Event, cm *corev1.ConfigMap) bool {
		return ev.Type == watch.Added && strings.HasPrefix(cm.Name, bulk.prefix+"-")
	})
	t.Logf("apply: killed with %d of %d new ConfigMaps applied", bulk.count(atKill), bulk.n)
	if bulk.count(atKill) == bulk.n {
		t.Errorf("all %d ConfigMaps existed when the controller was killed: the kill did not interrupt the apply", bulk.n)
	}

	// Killed while pruning: the first of the 300 is being deleted.
	atKill = c.killDuring(final, func(ev watch.Event, cm *corev1.ConfigMap) bool {
		return ev.Type == watch.Deleted && strings.HasPrefix(cm.Name, bulk.prefix+"-")
	})
	t.Logf("prune: killed with %d of %d stale ConfigMaps left", bulk.count(atKill), bulk.n)
	if bulk.count(atKill) == 0 {
		t.Errorf("no stale ConfigMap was left when the controller was killed: the kill did not interrupt the prune")
	}
}

// crasher runs the kill-restart-converge cycles of TestKustomizeControllerCrash.
type crasher struct {
	t    *testing.T
	ctx  context.Context
	env  *framework.Env
	kc   *framework.Process
	repo *framework.GitRepo
	ks   *kustomizev1.Kustomization
}

// killDuring commits set as the new revision, asks for it, kills kustomize-controller
// (SIGKILL) at the first owned-ConfigMap watch event kill accepts, restarts it and checks
// that the cluster converges to set. It returns the owned ConfigMaps at the kill.
func (c *crasher) killDuring(set crashSet, kill func(watch.Event, *corev1.ConfigMap) bool) []string {
	t, ctx := c.t, c.ctx
	t.Helper()
	// Watch before the revision exists, so the event arrives within milliseconds.
	wc, err := client.NewWithWatch(c.env.Config, client.Options{Scheme: c.env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, &corev1.ConfigMapList{}, client.InNamespace(crashNS),
		client.MatchingLabels{ownerNameLabel: "crash", ownerNamespaceLabel: crashNS})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	hash, err := c.repo.Commit(map[string]string{crashFile: set.manifests()}, "set "+set.prefix)
	if err != nil {
		t.Fatal(err)
	}
	revision := c.repo.Revision(hash)
	requestReconcile(t, ctx, crashNS, "gitrepository/crash")
	starts := c.kc.Starts()
	c.waitEvent(w, kill, time.Minute)
	c.kc.Kill()
	killed := time.Now()
	atKill := ownedConfigMaps(t, ctx, crashNS, "crash")

	if err := c.kc.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if c.kc.Starts() != starts+1 {
		t.Errorf("kustomize-controller started %d times, want %d", c.kc.Starts(), starts+1)
	}
	waitApplied(t, ctx, c.ks, revision, 2*time.Minute)
	t.Logf("set %s: converged %s after the kill", set.prefix, time.Since(killed).Round(time.Millisecond))

	want := set.ids()
	if got := inventoryIDs(c.ks); !slices.Equal(got, want) {
		t.Errorf("set %s: inventory is not the revision: %s", set.prefix, diffSets(want, got))
	}
	if got := ownedConfigMaps(t, ctx, crashNS, "crash"); !slices.Equal(got, want) {
		t.Errorf("set %s: ConfigMaps with the owner labels are not the inventory (orphans or missing): %s", set.prefix, diffSets(want, got))
	}
	var all corev1.ConfigMapList
	if err := c.env.Client.List(ctx, &all, client.InNamespace(crashNS)); err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != set.n+1 { // + kube-root-ca.crt
		t.Errorf("set %s: %d ConfigMaps in %s, want %d and kube-root-ca.crt", set.prefix, len(all.Items), crashNS, set.n)
	}
	return atKill
}

// waitEvent returns at the first ConfigMap event match accepts; on timeout the test fails
// with the Kustomization's state.
func (c *crasher) waitEvent(w watch.Interface, match func(watch.Event, *corev1.ConfigMap) bool, timeout time.Duration) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case <-deadline:
			_ = c.env.Client.Get(c.ctx, client.ObjectKeyFromObject(c.ks), c.ks)
			c.t.Fatalf("no matching ConfigMap event within %s\n%s", timeout, diagnose(c.ks))
		case ev, ok := <-w.ResultChan():
			if !ok {
				c.t.Fatal("the ConfigMap watch ended early")
			}
			if cm, isCM := ev.Object.(*corev1.ConfigMap); isCM && match(ev, cm) {
				return
			}
		}
	}
}
