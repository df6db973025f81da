package main

import (
	"slices"
	"testing"

	"gotk.dev/e2e/framework"
)

// TestWithShards: two shards run a primary (objects without a shard key) and one shard
// instance of each sharded controller; other controllers stay single; apps alternate.
func TestWithShards(t *testing.T) {
	opts := framework.Options{}.WithControllers("source-controller", "kustomize-controller", "notification-controller")
	for i := range opts.Controllers {
		opts.Controllers[i].Args = []string{"--concurrent=10"}
	}
	got := WithShards(opts, 2).Controllers
	var instances []string
	for _, c := range got {
		instances = append(instances, c.Instance())
		switch {
		case c.Shard != "":
			if !slices.Equal(c.Args, []string{"--concurrent=10"}) {
				t.Errorf("%s args %q: want the primary's tuning without its selector (the framework adds the shard's)", c.Instance(), c.Args)
			}
		case c.Name == "notification-controller":
			if !slices.Equal(c.Args, []string{"--concurrent=10"}) {
				t.Errorf("notification-controller args %q", c.Args)
			}
		default:
			if c.Args[0] != "--watch-label-selector=!sharding.fluxcd.io/key" {
				t.Errorf("primary %s args %q: want objects without a shard key", c.Name, c.Args)
			}
		}
	}
	want := []string{"source-controller", "source-controller-shard1", "kustomize-controller", "kustomize-controller-shard1", "notification-controller"}
	if !slices.Equal(instances, want) {
		t.Errorf("instances %v, want %v", instances, want)
	}
	if n := len(WithShards(opts, 1).Controllers); n != 3 {
		t.Errorf("one shard: %d controllers, want 3", n)
	}
	cfg := Config{Shards: 2}
	if cfg.shardOf(0) != "" || cfg.shardOf(1) != "shard1" || cfg.shardOf(2) != "" {
		t.Errorf("apps 0,1,2 go to %q,%q,%q; want the primary, shard1, the primary", cfg.shardOf(0), cfg.shardOf(1), cfg.shardOf(2))
	}
}
