// Package scheme builds a runtime.Scheme holding the built-in Kubernetes kinds and every Flux
// kind, for clients that read or write any of them (the CLI, tests, the apply engine).
package scheme

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

// New returns a fresh scheme; callers own it (no shared global state).
func New() (*runtime.Scheme, error) {
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
