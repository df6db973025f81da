package manifests

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestGenerateShards: --shards renders upstream's sharding layout: per shard a source-,
// kustomize- and helm-controller named <controller>-<shard> with their own pod label,
// selecting sharding.fluxcd.io/key=<shard>; source-controller shards serve artifacts from
// their own Service; the primary controllers select objects without the key; notification-
// controller and the image controllers are not sharded.
func TestGenerateShards(t *testing.T) {
	objs := generate(t, func(o *Options) {
		o.Components = append(DefaultComponents(), ExtraComponents()...)
		o.ClusterDomain = "k8s.example"
		o.Shards = []string{"shard1", "shard2"}
	})
	for _, c := range ShardedComponents() {
		primary := find(objs, "Deployment", c)
		if got := args(t, primary); !slices.Contains(got, "--watch-label-selector=!sharding.fluxcd.io/key") {
			t.Errorf("%s args %q: no --watch-label-selector=!sharding.fluxcd.io/key", c, got)
		}
		if _, ok := primary.GetAnnotations()[ShardRoleAnnotation]; ok {
			t.Errorf("primary %s is annotated %s", c, ShardRoleAnnotation)
		}
		for _, shard := range []string{"shard1", "shard2"} {
			name := c + "-" + shard
			d := find(objs, "Deployment", name)
			if d == nil {
				t.Fatalf("no Deployment %s", name)
			}
			if d.GetAnnotations()[ShardRoleAnnotation] != "shard" {
				t.Errorf("%s annotations %v, want %s: shard", name, d.GetAnnotations(), ShardRoleAnnotation)
			}
			sel, _, _ := unstructured.NestedString(d.Object, "spec", "selector", "matchLabels", "app")
			pod, _, _ := unstructured.NestedString(d.Object, "spec", "template", "metadata", "labels", "app")
			if sel != name || pod != name {
				t.Errorf("%s selects app=%s, pods labelled app=%s; want %s for both (the primary's pods must not match)", name, sel, pod, name)
			}
			got := args(t, d)
			var selectors []string
			for _, a := range got {
				if strings.HasPrefix(a, "--watch-label-selector=") {
					selectors = append(selectors, a)
				}
			}
			if want := []string{"--watch-label-selector=sharding.fluxcd.io/key=" + shard}; !slices.Equal(selectors, want) {
				t.Errorf("%s selectors %q, want %q", name, selectors, want)
			}
			if c == SourceController {
				if want := "--storage-adv-addr=" + name + ".$(RUNTIME_NAMESPACE).svc.k8s.example."; !slices.Contains(got, want) {
					t.Errorf("%s args %q, want %s", name, got, want)
				}
				svc := find(objs, "Service", name)
				if svc == nil {
					t.Fatalf("no Service %s", name)
				}
				if s, _, _ := unstructured.NestedString(svc.Object, "spec", "selector", "app"); s != name {
					t.Errorf("Service %s selects app=%s, want %s", name, s, name)
				}
			}
		}
	}
	for _, c := range []string{NotificationController, ImageReflectorController, ImageAutomationController} {
		if find(objs, "Deployment", c+"-shard1") != nil {
			t.Errorf("%s is sharded", c)
		}
		for _, a := range args(t, find(objs, "Deployment", c)) {
			if strings.HasPrefix(a, "--watch-label-selector") {
				t.Errorf("%s got %s", c, a)
			}
		}
	}
	if find(objs, "Service", "notification-controller-shard1") != nil {
		t.Error("notification-controller's Service is sharded")
	}
}

// TestGenerateNoShards: without --shards no controller is scoped by a label selector.
func TestGenerateNoShards(t *testing.T) {
	for _, u := range generate(t, func(*Options) {}) {
		if u.GetKind() == "Deployment" && slices.ContainsFunc(args(t, u), func(a string) bool { return strings.HasPrefix(a, "--watch-label-selector") }) {
			t.Errorf("%s has a --watch-label-selector without shards", ID(u))
		}
	}
}

func TestValidateShards(t *testing.T) {
	for _, tt := range []struct {
		shards []string
		want   string
	}{
		{[]string{"Shard1"}, `invalid --shards "Shard1"`},
		{[]string{"a", "a"}, `invalid --shards "a": given twice`},
		{[]string{strings.Repeat("s", maxShardName+1)}, "at most 42 characters"},
	} {
		o := DefaultOptions("v1.2.3")
		o.Shards = tt.shards
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("shards %q: error %v, want %q", tt.shards, err, tt.want)
		}
	}
}
