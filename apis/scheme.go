// Package apis gathers every Flux API of this repository in one place, for the programs that
// handle all of them (the flux CLI, the end-to-end tests). Controllers and the SDK never
// import it: a controller registers only the API modules it reconciles or reads.
package apis

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	helmv2 "gotk.dev/helm-controller/api/v2"
	imageautov1 "gotk.dev/image-automation-controller/api/v1"
	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	notificationv1 "gotk.dev/notification-controller/api/v1"
	notificationv1beta3 "gotk.dev/notification-controller/api/v1beta3"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// NewScheme returns a fresh scheme with the built-in Kubernetes kinds,
// CustomResourceDefinitions and every Flux kind; callers own it (no shared global state).
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		sourcev1.AddToScheme,
		kustomizev1.AddToScheme,
		helmv2.AddToScheme,
		notificationv1.AddToScheme,
		notificationv1beta3.AddToScheme,
		imagev1.AddToScheme,
		imageautov1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Groups are the API groups of the Flux kinds.
func Groups() []string {
	return []string{
		sourcev1.GroupVersion.Group, kustomizev1.GroupVersion.Group, helmv2.GroupVersion.Group,
		notificationv1.GroupVersion.Group, imagev1.GroupVersion.Group, imageautov1.GroupVersion.Group,
	}
}
