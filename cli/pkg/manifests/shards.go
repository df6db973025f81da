package manifests

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Sharding, as upstream's sharding guide lays it out (flux/installation/configuration/sharding):
// every shard runs its own source-, kustomize- and helm-controller, named <controller>-<shard>,
// reconciling only the objects labelled sharding.fluxcd.io/key=<shard>; the primary
// controllers reconcile the objects without the label. source-controller shards serve their
// artifacts from their own Service.
const (
	// ShardKeyLabel assigns an object to a shard.
	ShardKeyLabel = "sharding.fluxcd.io/key"
	// ShardRoleAnnotation marks the objects of shard instances (value "shard"), so patches of
	// the primary controllers can leave them out (annotationSelector: "!sharding.fluxcd.io/role").
	ShardRoleAnnotation = "sharding.fluxcd.io/role"
)

// ShardedComponents are the controllers that run one instance per shard.
func ShardedComponents() []string {
	return []string{SourceController, KustomizeController, HelmController}
}

// maxShardName keeps <controller>-<shard> a valid label value and Service name (63).
const maxShardName = 63 - len("-") - len(KustomizeController)

// validateShards checks --shards: DNS labels short enough to suffix a controller name, each
// once.
func validateShards(shards []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range shards {
		problems := validation.IsDNS1123Label(s)
		if len(s) > maxShardName {
			problems = append(problems, fmt.Sprintf("must be at most %d characters (it suffixes the controller names)", maxShardName))
		}
		if seen[s] {
			problems = append(problems, "given twice")
		}
		seen[s] = true
		if len(problems) > 0 {
			errs = append(errs, fmt.Errorf("invalid --shards %q: %s", s, strings.Join(problems, "; ")))
		}
	}
	return errs
}

// addShards scopes the primary controllers to objects without a shard key and appends, for
// each shard, copies of the sharded controllers' Deployments (and source-controller's
// Service) scoped to the shard. objs are already edited for o.
func addShards(objs []*unstructured.Unstructured, o Options) ([]*unstructured.Unstructured, error) {
	if len(o.Shards) == 0 {
		return objs, nil
	}
	out := objs
	for _, u := range objs {
		component := u.GetLabels()[ComponentLabel]
		if !slices.Contains(ShardedComponents(), component) {
			continue
		}
		switch {
		case u.GetKind() == "Deployment":
			for _, shard := range o.Shards {
				s, err := shardDeployment(u, component, shard, o)
				if err != nil {
					return nil, fmt.Errorf("%s: shard %s: %w", ID(u), shard, err)
				}
				out = append(out, s)
			}
			if err := appendArg(u, "--watch-label-selector=!"+ShardKeyLabel); err != nil {
				return nil, fmt.Errorf("%s: %w", ID(u), err)
			}
		case u.GetKind() == "Service" && u.GetName() == SourceController:
			for _, shard := range o.Shards {
				s := u.DeepCopy()
				s.SetName(SourceController + "-" + shard)
				markShard(s)
				if err := unstructured.SetNestedField(s.Object, SourceController+"-"+shard, "spec", "selector", "app"); err != nil {
					return nil, err
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// shardDeployment is primary's Deployment for one shard: its own name and pod label, and
// --watch-label-selector=sharding.fluxcd.io/key=<shard>.
func shardDeployment(primary *unstructured.Unstructured, component, shard string, o Options) (*unstructured.Unstructured, error) {
	d := primary.DeepCopy()
	name := component + "-" + shard
	d.SetName(name)
	markShard(d)
	for _, path := range [][]string{{"spec", "selector", "matchLabels", "app"}, {"spec", "template", "metadata", "labels", "app"}} {
		if err := unstructured.SetNestedField(d.Object, name, path...); err != nil {
			return nil, err
		}
	}
	ctr, containers, err := firstContainer(d)
	if err != nil {
		return nil, err
	}
	args, _ := ctr["args"].([]any)
	var kept []any
	for _, a := range args {
		s, _ := a.(string)
		if strings.HasPrefix(s, "--storage-adv-addr=") {
			// Artifacts of the shard's sources are served by the shard's Service.
			a = "--storage-adv-addr=" + name + ".$(RUNTIME_NAMESPACE).svc." + o.ClusterDomain + "."
		}
		kept = append(kept, a)
	}
	ctr["args"] = append(kept, "--watch-label-selector="+ShardKeyLabel+"="+shard)
	containers[0] = ctr
	return d, unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers")
}

// markShard annotates an object of a shard instance.
func markShard(u *unstructured.Unstructured) {
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[ShardRoleAnnotation] = "shard"
	u.SetAnnotations(a)
}

// appendArg adds a flag to the first container of a Deployment.
func appendArg(d *unstructured.Unstructured, arg string) error {
	ctr, containers, err := firstContainer(d)
	if err != nil {
		return err
	}
	args, _ := ctr["args"].([]any)
	ctr["args"] = append(args, arg)
	containers[0] = ctr
	return unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers")
}

func firstContainer(d *unstructured.Unstructured) (map[string]any, []any, error) {
	containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) == 0 {
		return nil, nil, fmt.Errorf("deployment has no containers: %v", err)
	}
	ctr, ok := containers[0].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("deployment's first container is not an object")
	}
	return ctr, containers, nil
}
