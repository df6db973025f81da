package action

import (
	"bytes"
	"fmt"
	"time"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmkube "helm.sh/helm/v3/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/util/retry"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/kube"
)

// crdEstablishTimeout bounds the wait for applied CRDs to be Established, as Helm's own
// install does.
const crdEstablishTimeout = 60 * time.Second

// ApplyCRDs applies the CRDs of chrt's crds/ directories (its dependencies' included) with
// policy: Create creates the missing ones, CreateReplace also replaces the existing ones
// with the chart's version. CRDs are never deleted. It waits until the CRDs it wrote are
// Established and makes discovery forget the old API, so the release that follows finds
// the new kinds. Skip does nothing.
func ApplyCRDs(cfg *helmaction.Configuration, policy v2.CRDsPolicy, chrt *chart.Chart) error {
	if policy == v2.Skip {
		return nil
	}
	var written, all helmkube.ResourceList
	for _, crd := range chrt.CRDObjects() {
		infos, err := cfg.KubeClient.Build(bytes.NewBuffer(crd.File.Data), false)
		if err != nil {
			return fmt.Errorf("CRD file %s: %w", crd.Filename, err)
		}
		for _, info := range infos {
			var changed bool
			// Another release of the same chart may replace the CRD at the same time.
			err := retry.RetryOnConflict(retry.DefaultRetry, func() (err error) {
				changed, err = applyCRD(info, policy)
				return err
			})
			if err != nil {
				return fmt.Errorf("CRD %s from %s: %w", info.Name, crd.Filename, err)
			}
			if changed {
				written = append(written, info)
			}
			all = append(all, info)
		}
	}
	if len(written) == 0 {
		// Nothing written here, but someone else may have created the CRDs since this
		// configuration discovered the API: make sure their kinds are known.
		if !knowsKinds(cfg, all) {
			forgetDiscovery(cfg)
		}
		return nil
	}
	if err := cfg.KubeClient.Wait(written, crdEstablishTimeout); err != nil {
		return fmt.Errorf("waiting for CRDs to be established: %w", err)
	}
	forgetDiscovery(cfg)
	return nil
}

// forgetDiscovery makes cfg look up the API again: kinds added since it was discovered are
// found, and the capabilities templates see are read anew.
func forgetDiscovery(cfg *helmaction.Configuration) {
	if cfg.RESTClientGetter != nil {
		if mapper, err := cfg.RESTClientGetter.ToRESTMapper(); err == nil {
			if r, ok := mapper.(meta.ResettableRESTMapper); ok {
				r.Reset()
			}
		}
		if dc, err := cfg.RESTClientGetter.ToDiscoveryClient(); err == nil {
			dc.Invalidate()
		}
	}
	cfg.Capabilities = nil
}

// knowsKinds tells whether cfg's REST mapper knows the kinds of the served versions of
// every CRD in crds (lookups in a cached mapper cost no request).
func knowsKinds(cfg *helmaction.Configuration, crds helmkube.ResourceList) bool {
	if cfg.RESTClientGetter == nil {
		return true
	}
	mapper, err := cfg.RESTClientGetter.ToRESTMapper()
	if err != nil {
		return false
	}
	for _, info := range crds {
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
		for _, v := range versions {
			m, _ := v.(map[string]interface{})
			name, _ := m["name"].(string)
			if served, _ := m["served"].(bool); !served || name == "" {
				continue
			}
			if _, err := mapper.RESTMapping(schema.GroupKind{Group: group, Kind: kind}, name); err != nil {
				return false
			}
		}
	}
	return true
}

// applyCRD creates the CRD of info when missing, or replaces it with CreateReplace. It
// returns whether it wrote anything.
func applyCRD(info *resource.Info, policy v2.CRDsPolicy) (bool, error) {
	helper := resource.NewHelper(info.Client, info.Mapping).WithFieldManager(kube.FieldManager())
	existing, err := helper.Get("", info.Name)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return false, err
		}
		obj, err := helper.Create("", true, info.Object)
		if err != nil {
			return false, err
		}
		return true, info.Refresh(obj, true)
	}
	if policy != v2.CreateReplace {
		return false, nil
	}
	// Replace with the resourceVersion just read, so the helper does not read it again.
	before, err := meta.Accessor(existing)
	if err != nil {
		return false, err
	}
	desired, err := meta.Accessor(info.Object)
	if err != nil {
		return false, err
	}
	desired.SetResourceVersion(before.GetResourceVersion())
	obj, err := helper.Replace("", info.Name, false, info.Object)
	if err != nil {
		return false, err
	}
	// Replacing a CRD with what it already is changes nothing on the server (the same
	// resourceVersion comes back): no need to wait for it or to rediscover the API.
	if after, err := meta.Accessor(obj); err == nil && before.GetResourceVersion() == after.GetResourceVersion() {
		return false, nil
	}
	return true, info.Refresh(obj, true)
}
