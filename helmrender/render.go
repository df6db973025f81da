package helmrender

import (
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helmrender/postrender"
)

// Request is a release to render.
type Request struct {
	// Object is the HelmRelease: release name, namespace and post-rendering.
	Object *v2.HelmRelease
	Chart  *chart.Chart
	// Values are the composed values (values.Compose).
	Values chartutil.Values
	// KubeVersion ("v1.30.0") and APIVersions ("apps/v1", "apps/v1/Deployment", ...) are
	// what the templates see of the cluster (.Capabilities); empty means Helm's defaults.
	KubeVersion string
	APIVersions []string
}

// Render renders the release of a HelmRelease without a cluster, as `helm template` does,
// then post-renders it as helm-controller does. The returned release holds the manifest
// (hooks apart, in Hooks).
func Render(req Request) (*release.Release, error) {
	obj := req.Object
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName = obj.GetReleaseName()
	install.Namespace = obj.GetReleaseNamespace()
	install.DisableOpenAPIValidation = true
	install.SkipSchemaValidation = obj.GetInstall().DisableSchemaValidation
	if req.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(req.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", req.KubeVersion, err)
		}
		install.KubeVersion = kv
	}
	install.APIVersions = req.APIVersions
	pr, err := postrender.PostRenderer(obj)
	if err != nil {
		return nil, err
	}
	install.PostRenderer = pr
	rls, err := install.Run(req.Chart, req.Values)
	if err != nil {
		return nil, fmt.Errorf("render chart %s@%s: %w", req.Chart.Name(), req.Chart.Metadata.Version, err)
	}
	return rls, nil
}
