package release

import (
	"fmt"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
)

const (
	// pendingReleaseReason is the Released reason (and event reason) of an unlocked release.
	pendingReleaseReason = "PendingRelease"
	// progressingReason is the Released reason while the objects of a release are checked.
	progressingReason = "Progressing"
	// awaitingHealth ends the Released message while health is being verified.
	awaitingHealth = "; waiting for its objects to become ready"
)

// Event metadata keys, prefixed with the API group as upstream's events are.
var (
	MetaRevisionKey     = v2.GroupName + "/" + eventv1.MetaRevisionKey
	MetaTokenKey        = v2.GroupName + "/" + eventv1.MetaTokenKey
	MetaAppVersionKey   = v2.GroupName + "/app-version"
	MetaOCIDigestKey    = v2.GroupName + "/oci-digest"
	MetaCommitStatusKey = v2.GroupName + "/" + eventv1.MetaCommitStatusKey
)

// EventMetadata is the annotation set of an event about a release: the chart version as
// the revision, the values digest as the token, and when known the app version and the
// digest of the chart's OCI artifact.
func EventMetadata(chartVersion, configDigest, appVersion, ociDigest string) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{MetaRevisionKey: chartVersion, MetaTokenKey: configDigest,
		MetaAppVersionKey: appVersion, MetaOCIDigestKey: ociDigest} {
		if v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// chartOf is "<name>@<version>" of a record's chart.
func chartOf(rls *release.Release) string {
	if rls.Chart == nil || rls.Chart.Metadata == nil {
		return ""
	}
	return rls.Chart.Metadata.Name + "@" + rls.Chart.Metadata.Version
}

// unlockedFrom is the state an unlocked record was stuck in, from the description Unlock
// wrote ("Release unlocked from stale '<state>' state").
func unlockedFrom(rls *release.Release) string {
	var was string
	if rls.Info != nil {
		if _, err := fmt.Sscanf(rls.Info.Description, "Release unlocked from stale '%s", &was); err == nil && len(was) > 0 {
			return trimQuote(was)
		}
	}
	return "pending"
}

func trimQuote(s string) string {
	for i, r := range s {
		if r == '\'' {
			return s[:i]
		}
	}
	return s
}

// disableWait tells whether the spec of action a (install or upgrade) disables waiting for
// the release's objects.
func disableWait(obj *v2.HelmRelease, a Action) bool {
	if a == Upgrade {
		return obj.GetUpgrade().DisableWait
	}
	return obj.GetInstall().DisableWait
}
