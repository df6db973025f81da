package fluxdiff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender"
	"gotk.dev/helmrender/values"
	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/ssa"
)

// Cluster is what rendering a HelmRelease needs from the cluster: objects (valuesFrom), the
// API versions and the Kubernetes version a chart's templates may test.
type Cluster struct {
	Client      client.Client
	Discovery   discovery.DiscoveryInterface
	KubeVersion string
}

// RenderHelmRelease renders the release of hr with chrt and the values helm-controller
// would use (spec.valuesFrom and spec.values), and returns its objects, the chart's CRDs
// first unless the HelmRelease skips them.
func RenderHelmRelease(ctx context.Context, cl Cluster, hr *helmv2.HelmRelease, chrt *chart.Chart) ([]*unstructured.Unstructured, error) {
	vals, err := values.Compose(ctx, values.ClientGetter(cl.Client, hr.Namespace), hr.Namespace, hr.Spec.ValuesFrom, hr.GetValues())
	if err != nil {
		return nil, fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	apiVersions, err := helmaction.GetVersionSet(cl.Discovery)
	if err != nil {
		return nil, fmt.Errorf("discover the cluster's API versions: %w", err)
	}
	rls, err := helmrender.Render(helmrender.Request{Object: hr, Chart: chrt, Values: vals, KubeVersion: cl.KubeVersion, APIVersions: apiVersions})
	if err != nil {
		return nil, err
	}
	mapper := cl.Client.RESTMapper()
	objs, err := ReleaseObjects(rls.Manifest, hr.GetReleaseNamespace(), mapper)
	if err != nil {
		return nil, err
	}
	if hr.GetInstall().GetCRDs() != helmv2.Skip || hr.GetUpgrade().GetCRDs() != helmv2.Skip {
		for _, crd := range chrt.CRDObjects() {
			docs, err := ReleaseObjects(string(crd.File.Data), "", mapper)
			if err != nil {
				return nil, fmt.Errorf("CRD file %s: %w", crd.Filename, err)
			}
			objs = append(docs, objs...)
		}
	}
	return objs, nil
}

// HelmReleaseRequest is the diff request of hr for its rendered objects: applied by
// helm-controller with the drift detection's ignore rules; objects of the current release
// (status.inventory) the render no longer has would be deleted, except CRDs (an upgrade never
// deletes them).
func HelmReleaseRequest(hr *helmv2.HelmRelease, objs []*unstructured.Unstructured) Request {
	r := Request{
		Owner:     ssa.Owner{Field: "helm-controller", Group: helmv2.GroupName},
		Objects:   objs,
		KeepKinds: []string{"CustomResourceDefinition"},
	}
	for _, rule := range hr.GetDriftDetection().Ignore {
		r.IgnoreRules = append(r.IgnoreRules, ssa.IgnoreRule{Paths: rule.Paths, Target: rule.Target})
	}
	if inv := hr.Status.Inventory; inv != nil {
		r.Applied = &inventory.Inventory{}
		for _, e := range inv.Entries {
			r.Applied.Entries = append(r.Applied.Entries, inventory.Entry{ID: e.ID, Version: e.Version})
		}
	}
	return r
}

// HelmReleaseFromSource diffs what the next reconcile of hr would change with the chart its
// source has now (FetchChart).
func HelmReleaseFromSource(ctx context.Context, cl Cluster, hr *helmv2.HelmRelease) ([]Change, error) {
	chrt, err := FetchChart(ctx, cl.Client, hr)
	if err != nil {
		return nil, err
	}
	objs, err := RenderHelmRelease(ctx, cl, hr, chrt)
	if err != nil {
		return nil, err
	}
	return Compute(ctx, cl.Client, HelmReleaseRequest(hr, objs))
}

// FetchChart loads the chart of hr's source: the artifact of spec.chartRef, or of the
// HelmChart made from spec.chart (status.helmChart), downloaded with its digest checked; a
// chart from an OCIRepository gets its digest version as helm-controller gives it.
func FetchChart(ctx context.Context, c client.Client, hr *helmv2.HelmRelease) (*chart.Chart, error) {
	var kind, ns, name string
	switch {
	case hr.Spec.ChartRef != nil:
		kind, ns, name = hr.Spec.ChartRef.Kind, hr.Spec.ChartRef.Namespace, hr.Spec.ChartRef.Name
		if ns == "" {
			ns = hr.Namespace
		}
	default:
		ns, name = hr.Status.GetHelmChart()
		kind = "HelmChart"
		if name == "" {
			return nil, fmt.Errorf("HelmRelease %s/%s has no HelmChart yet (status.helmChart)", hr.Namespace, hr.Name)
		}
	}
	dir, revision, cleanup, err := fetchSource(ctx, c, sourceAPIVersion, kind, ns, name)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	chrt, err := helmrender.LoadChart(dir)
	if err != nil {
		return nil, fmt.Errorf("chart of %s/%s/%s revision %s: %w", kind, ns, name, revision, err)
	}
	if kind == "OCIRepository" {
		v, err := helmrender.WithDigest(chrt.Metadata.Version, revision)
		if err != nil {
			return nil, err
		}
		chrt.Metadata.Version = v.Version
	}
	return chrt, nil
}

// ReleaseObjects decodes rendered manifests; namespaced objects without a namespace go to
// namespace, cluster-scoped ones have none.
func ReleaseObjects(manifest, namespace string, mapper apimeta.RESTMapper) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rendered manifest: %w", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		gvk := u.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil && mapping.Scope.Name() == apimeta.RESTScopeNameRoot:
			u.SetNamespace("")
		case u.GetNamespace() == "":
			u.SetNamespace(namespace)
		}
		out = append(out, u)
	}
}
