package app

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxdiff"
)

// objectDiff is the unified diff between the live object and the result of applying the
// build, both as YAML without the fields every write changes. Secret values are masked.
func objectDiff(live, merged *unstructured.Unstructured) (string, error) {
	a, b := fluxdiff.Diffable(live), fluxdiff.Diffable(merged)
	if live.GetKind() == "Secret" && live.GetAPIVersion() == "v1" {
		fluxdiff.MaskSecretValues(a, b)
	}
	return changeDiff(fluxdiff.Change{Live: a, Merged: b})
}

// changeDiff is the unified diff of a drifted object's live and merged YAML (already
// diffable and masked by fluxdiff).
func changeDiff(ch fluxdiff.Change) (string, error) {
	ay, err := fluxdiff.YAML(ch.Live)
	if err != nil {
		return "", err
	}
	by, err := fluxdiff.YAML(ch.Merged)
	if err != nil {
		return "", err
	}
	return unifiedDiff(ay, by, "live", "merged", 3), nil
}
