// Package v1 contains the API types of the image.toolkit.fluxcd.io/v1 group.
// +kubebuilder:object:generate=true
// +groupName=image.toolkit.fluxcd.io
package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group version used to register these objects.
var GroupVersion = schema.GroupVersion{Group: "image.toolkit.fluxcd.io", Version: "v1"}

// AddToScheme adds every kind of this group-version to the given scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ImageRepository{},
		&ImageRepositoryList{},
		&ImagePolicy{},
		&ImagePolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
