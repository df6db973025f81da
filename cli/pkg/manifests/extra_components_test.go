package manifests

import (
	"slices"
	"testing"

	"gotk.dev/e2e/framework"
)

// TestExtraComponentsMatchE2E: the controllers `flux install --components-extra` accepts are
// the ones the e2e framework runs as extra components, so the suites exercise what users
// install.
func TestExtraComponentsMatchE2E(t *testing.T) {
	controllers := slices.DeleteFunc(ExtraComponents(), func(c string) bool { return c == UI }) // not a controller
	if got, want := framework.ExtraControllers(), controllers; !slices.Equal(got, want) {
		t.Fatalf("e2e extra controllers %v, flux install --components-extra accepts %v", got, want)
	}
	for _, c := range DefaultComponents() {
		if slices.Contains(framework.ExtraControllers(), c) {
			t.Errorf("%s is installed by default but marked extra in the e2e framework", c)
		}
	}
}
