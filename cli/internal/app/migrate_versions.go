package app

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// migrateTargets are, per Flux minor version, the API version each Flux kind is served at
// (the newest, which `flux migrate -f` rewrites manifests to). The first entry is this CLI's.
var migrateTargets = []struct {
	flux     string
	versions map[schema.GroupKind]string
}{
	{"2.7", fluxAPIVersions("v1", "v1")},
	{"2.6", fluxAPIVersions("v1beta2", "v1beta2")},
}

// fluxAPIVersions is the table of one Flux minor version; the image kinds moved to v1 in 2.7.
func fluxAPIVersions(imageReflector, imageAutomation string) map[schema.GroupKind]string {
	src := func(k string) schema.GroupKind { return schema.GroupKind{Group: "source.toolkit.fluxcd.io", Kind: k} }
	m := map[schema.GroupKind]string{
		src("GitRepository"): "v1", src("OCIRepository"): "v1", src("HelmRepository"): "v1",
		src("HelmChart"): "v1", src("Bucket"): "v1", src("ExternalArtifact"): "v1",
		{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization"}:     "v1",
		{Group: "helm.toolkit.fluxcd.io", Kind: "HelmRelease"}:            "v2",
		{Group: "notification.toolkit.fluxcd.io", Kind: "Receiver"}:       "v1",
		{Group: "notification.toolkit.fluxcd.io", Kind: "Alert"}:          "v1beta3",
		{Group: "notification.toolkit.fluxcd.io", Kind: "Provider"}:       "v1beta3",
		{Group: "image.toolkit.fluxcd.io", Kind: "ImageRepository"}:       imageReflector,
		{Group: "image.toolkit.fluxcd.io", Kind: "ImagePolicy"}:           imageReflector,
		{Group: "image.toolkit.fluxcd.io", Kind: "ImageUpdateAutomation"}: imageAutomation,
		{Group: "source.extensions.fluxcd.io", Kind: "ArtifactGenerator"}: "v1beta1",
	}
	if imageReflector != "v1" {
		delete(m, schema.GroupKind{Group: "source.extensions.fluxcd.io", Kind: "ArtifactGenerator"})
	}
	return m
}

// migrateVersions returns the table of --version ("" is the newest).
func migrateVersions(version string) (map[schema.GroupKind]string, error) {
	if version == "" {
		return migrateTargets[0].versions, nil
	}
	var known []string
	for _, t := range migrateTargets {
		if t.flux == version {
			return t.versions, nil
		}
		known = append(known, t.flux)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("version %s is not supported, supported versions are: %s", version, strings.Join(known, ", "))
}
