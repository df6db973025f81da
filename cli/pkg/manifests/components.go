package manifests

import (
	"fmt"
	"slices"
	"strings"
)

// The controllers, in install order. The first four are installed by default; the image
// automation pair is opt-in (--components-extra), as upstream.
const (
	SourceController          = "source-controller"
	KustomizeController       = "kustomize-controller"
	HelmController            = "helm-controller"
	NotificationController    = "notification-controller"
	ImageReflectorController  = "image-reflector-controller"
	ImageAutomationController = "image-automation-controller"
	// UI is the web UI (flux ui in cluster mode), an opt-in component that is not a
	// controller.
	UI = "ui"
)

// DefaultComponents are the controllers `flux install` installs without --components.
func DefaultComponents() []string {
	return []string{SourceController, KustomizeController, HelmController, NotificationController}
}

// ExtraComponents are the components --components-extra accepts: the image automation
// controllers and the web UI.
func ExtraComponents() []string {
	return []string{ImageReflectorController, ImageAutomationController, UI}
}

// AllComponents are every controller the bundle describes.
func AllComponents() []string { return append(DefaultComponents(), ExtraComponents()...) }

// SelectComponents validates --components (any controller) and --components-extra (the
// image automation controllers) and returns their union without duplicates, in install order.
func SelectComponents(components, extra []string) ([]string, error) {
	all := AllComponents()
	chosen := map[string]bool{}
	for _, c := range components {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !slices.Contains(all, c) {
			return nil, fmt.Errorf("unknown component %q in --components: valid components are %s", c, strings.Join(all, ", "))
		}
		chosen[c] = true
	}
	for _, c := range extra {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !slices.Contains(ExtraComponents(), c) {
			return nil, fmt.Errorf("unknown component %q in --components-extra: valid extra components are %s", c, strings.Join(ExtraComponents(), ", "))
		}
		chosen[c] = true
	}
	var out []string
	for _, c := range all {
		if chosen[c] {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no components selected: choose from %s", strings.Join(all, ", "))
	}
	return out, nil
}
