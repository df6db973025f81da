package action

import (
	"strings"
	"testing"

	v2 "gotk.dev/helm-controller/api/v2"
)

func TestValidateReleaseName(t *testing.T) {
	long := &v2.HelmRelease{}
	long.Name, long.Namespace = "a-very-lengthy-target-namespace-with-a-nice-object-name", "apps"
	if err := ValidateReleaseName(long); err != nil {
		t.Errorf("composed names are shortened to fit: %v", err)
	}
	explicit := &v2.HelmRelease{}
	explicit.Spec.ReleaseName = strings.Repeat("x", 54)
	err := ValidateReleaseName(explicit)
	if err == nil || !strings.Contains(err.Error(), "spec.releaseName") || !strings.Contains(err.Error(), "53") {
		t.Errorf("error = %v, want it to name spec.releaseName and the limit", err)
	}
}
