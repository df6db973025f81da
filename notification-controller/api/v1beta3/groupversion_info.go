// Package v1beta3 contains the API types of the notification.toolkit.fluxcd.io/v1beta3 group.
// +kubebuilder:object:generate=true
// +groupName=notification.toolkit.fluxcd.io
package v1beta3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group version used to register these objects.
var GroupVersion = schema.GroupVersion{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3"}

// AddToScheme adds every kind of this group-version to the given scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Alert{},
		&AlertList{},
		&Provider{},
		&ProviderList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
