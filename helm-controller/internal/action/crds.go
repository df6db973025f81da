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
	"k8s.io/cli-runtime/pkg/resource"

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
	var written helmkube.ResourceList
	for _, crd := range chrt.CRDObjects() {
		infos, err := cfg.KubeClient.Build(bytes.NewBuffer(crd.File.Data), false)
		if err != nil {
			return fmt.Errorf("CRD file %s: %w", crd.Filename, err)
		}
		for _, info := range infos {
			changed, err := applyCRD(info, policy)
			if err != nil {
				return fmt.Errorf("CRD %s from %s: %w", info.Name, crd.Filename, err)
			}
			if changed {
				written = append(written, info)
			}
		}
	}
	if len(written) == 0 {
		return nil
	}
	if err := cfg.KubeClient.Wait(written, crdEstablishTimeout); err != nil {
		return fmt.Errorf("waiting for CRDs to be established: %w", err)
	}
	if cfg.RESTClientGetter != nil {
		mapper, err := cfg.RESTClientGetter.ToRESTMapper()
		if err != nil {
			return err
		}
		if r, ok := mapper.(meta.ResettableRESTMapper); ok {
			r.Reset()
		}
		if dc, err := cfg.RESTClientGetter.ToDiscoveryClient(); err == nil {
			dc.Invalidate()
		}
	}
	// The capabilities (API versions templates see) were read before the CRDs existed.
	cfg.Capabilities = nil
	return nil
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
