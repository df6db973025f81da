package manager

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// workloadKinds carry a pod template that kstatus never reads: for them it is most of the
// object, and a health cache of 1000 Deployments would hold 1000 pod templates.
var workloadKinds = map[string]bool{
	"apps/Deployment": true, "apps/StatefulSet": true, "apps/DaemonSet": true, "apps/ReplicaSet": true,
	"batch/Job": true, "batch/CronJob": true,
}

// HealthCacheTransform strips what health checks never read from cached objects:
// metadata.managedFields from every object, and the pod template (spec.template,
// spec.jobTemplate) from unstructured workloads, which the kustomize and helm controllers cache
// only to compute their status. Typed objects (the controllers' own kinds) keep their spec.
func HealthCacheTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	return func(in any) (any, error) {
		out, err := strip(in)
		if err != nil {
			return out, err
		}
		if u, ok := out.(*unstructured.Unstructured); ok {
			gvk := u.GroupVersionKind()
			if workloadKinds[gvk.Group+"/"+gvk.Kind] {
				unstructured.RemoveNestedField(u.Object, "spec", "template")
				unstructured.RemoveNestedField(u.Object, "spec", "jobTemplate")
				unstructured.RemoveNestedField(u.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
			}
		}
		return out, nil
	}
}
