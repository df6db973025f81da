package controller

import "gotk.dev/helm-controller/internal/release"

// eventMetadataOf annotates an event with what a release is made of (the chart version as
// `helm.toolkit.fluxcd.io/revision`, the values digest as the token, the app version and
// the OCI digest).
func eventMetadataOf(chartVersion, configDigest, appVersion, ociDigest string) map[string]string {
	return release.EventMetadata(chartVersion, configDigest, appVersion, ociDigest)
}
