package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// configIndexKey indexes Kustomizations by the ConfigMaps and Secrets they read: the
// substituteFrom entries and the decryption Secret, as "<Kind>/<namespace>/<name>".
const configIndexKey = ".spec.configs"

func indexByConfig(o client.Object) []string {
	k := o.(*kustomizev1.Kustomization)
	var keys []string
	if pb := k.Spec.PostBuild; pb != nil {
		for _, ref := range pb.SubstituteFrom {
			keys = append(keys, ref.Kind+"/"+k.Namespace+"/"+ref.Name)
		}
	}
	if d := k.Spec.Decryption; d != nil && d.SecretRef != nil {
		keys = append(keys, "Secret/"+k.Namespace+"/"+d.SecretRef.Name)
	}
	return keys
}

// usersOfConfig maps a watched ConfigMap or Secret (of kind) to the Kustomizations reading it.
func (r *KustomizationReconciler) usersOfConfig(kind string) func(context.Context, client.Object) []ctrlreconcile.Request {
	return func(ctx context.Context, o client.Object) []ctrlreconcile.Request {
		return r.listRequests(ctx, configIndexKey, kind+"/"+o.GetNamespace()+"/"+o.GetName())
	}
}
