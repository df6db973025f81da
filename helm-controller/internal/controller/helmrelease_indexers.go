package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	v2 "gotk.dev/helm-controller/api/v2"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	sourceIndexKey    = ".spec.chartSource"
	dependsOnIndexKey = ".spec.dependsOn"
	configIndexKey    = ".spec.configRefs"
)

// indexBySource indexes HelmReleases by "<kind>/<namespace>/<name>" of the source their
// chart comes from: the HelmChart of spec.chart, or spec.chartRef.
func indexBySource(o client.Object) []string {
	hr := o.(*v2.HelmRelease)
	switch {
	case hr.HasChartTemplate():
		return []string{sourcev1.HelmChartKind + "/" + chartTemplateNamespace(hr) + "/" + hr.GetHelmChartName()}
	case hr.HasChartRef():
		ns := hr.Spec.ChartRef.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		return []string{hr.Spec.ChartRef.Kind + "/" + ns + "/" + hr.Spec.ChartRef.Name}
	}
	return nil
}

// indexByDependency indexes HelmReleases by "<namespace>/<name>" of each dependency.
func indexByDependency(o client.Object) []string {
	hr := o.(*v2.HelmRelease)
	out := make([]string, 0, len(hr.Spec.DependsOn))
	for _, d := range hr.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		out = append(out, ns+"/"+d.Name)
	}
	return out
}

// indexByConfig indexes HelmReleases by "<kind>/<namespace>/<name>" of the ConfigMaps and
// Secrets they read: spec.valuesFrom and spec.kubeConfig.
func indexByConfig(o client.Object) []string {
	hr := o.(*v2.HelmRelease)
	var out []string
	for _, v := range hr.Spec.ValuesFrom {
		out = append(out, v.Kind+"/"+hr.Namespace+"/"+v.Name)
	}
	if kc := hr.Spec.KubeConfig; kc != nil {
		if kc.SecretRef != nil {
			out = append(out, "Secret/"+hr.Namespace+"/"+kc.SecretRef.Name)
		}
		if kc.ConfigMapRef != nil {
			out = append(out, "ConfigMap/"+hr.Namespace+"/"+kc.ConfigMapRef.Name)
		}
	}
	return out
}

// bySource maps a source of kind to the HelmReleases using it.
func (r *HelmReleaseReconciler) bySource(kind string) func(context.Context, client.Object) []ctrlreconcile.Request {
	return func(ctx context.Context, o client.Object) []ctrlreconcile.Request {
		return r.listRequests(ctx, sourceIndexKey, kind+"/"+o.GetNamespace()+"/"+o.GetName())
	}
}

// dependants maps a HelmRelease to those depending on it.
func (r *HelmReleaseReconciler) dependants(ctx context.Context, o client.Object) []ctrlreconcile.Request {
	return r.listRequests(ctx, dependsOnIndexKey, o.GetNamespace()+"/"+o.GetName())
}

// byConfig maps a ConfigMap or Secret to the HelmReleases reading it.
func (r *HelmReleaseReconciler) byConfig(kind string) func(context.Context, client.Object) []ctrlreconcile.Request {
	return func(ctx context.Context, o client.Object) []ctrlreconcile.Request {
		return r.listRequests(ctx, configIndexKey, kind+"/"+o.GetNamespace()+"/"+o.GetName())
	}
}

func (r *HelmReleaseReconciler) listRequests(ctx context.Context, key, value string) []ctrlreconcile.Request {
	var list v2.HelmReleaseList
	if err := r.List(ctx, &list, client.MatchingFields{key: value}); err != nil {
		return nil
	}
	reqs := make([]ctrlreconcile.Request, 0, len(list.Items))
	for _, hr := range list.Items {
		reqs = append(reqs, ctrlreconcile.Request{NamespacedName: types.NamespacedName{Namespace: hr.Namespace, Name: hr.Name}})
	}
	return reqs
}
