package policy

import (
	"context"
	"fmt"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
)

// DigestFunc looks up the manifest digest of a tag (registry.Client.Digest bound to the
// ImageRepository's image and credentials, possibly behind the tag store's digest cache).
type DigestFunc func(ctx context.Context, tag string) (string, error)

// Resolution is a policy's new status: .status.latestRef and .status.observedPreviousRef.
type Resolution struct {
	// Latest is the new .status.latestRef.
	Latest imagev1.ImageRef
	// Previous is the new .status.observedPreviousRef: the latestRef before this
	// reconciliation (nil on the first one). The reconciler clears it when a reconciliation
	// fails, as upstream does, so a recovery is not mistaken for an upgrade.
	Previous *imagev1.ImageRef
	// Changed says Latest differs from the previous latestRef (name, tag or digest).
	Changed bool
}

// Resolve builds the status for tag, the tag Policy.Latest chose. image is the name to report
// (the ImageRepository's .spec.image as written, so setters keep the user's spelling); prev is
// the current .status.latestRef (nil if none). The digest follows .spec.digestReflectionPolicy:
// Never leaves it empty, IfNotPresent reuses prev's digest while name and tag are unchanged,
// Always looks it up every time.
func Resolve(ctx context.Context, reflect imagev1.ReflectionPolicy, image, tag string, prev *imagev1.ImageRef, lookup DigestFunc) (*Resolution, error) {
	latest := imagev1.ImageRef{Name: image, Tag: tag}
	switch reflect {
	case "", imagev1.ReflectNever:
	case imagev1.ReflectIfNotPresent, imagev1.ReflectAlways:
		if reflect == imagev1.ReflectIfNotPresent && prev != nil && prev.Name == image && prev.Tag == tag && prev.Digest != "" {
			latest.Digest = prev.Digest
			break
		}
		if lookup == nil {
			return nil, fmt.Errorf("digest reflection policy %s needs a digest lookup", reflect)
		}
		d, err := lookup(ctx, tag)
		if err != nil {
			return nil, err
		}
		latest.Digest = d
	default:
		return nil, &SpecError{Field: ".spec.digestReflectionPolicy", Msg: fmt.Sprintf("%q is not Always, IfNotPresent or Never", reflect)}
	}
	res := &Resolution{Latest: latest, Changed: prev == nil || *prev != latest}
	if prev != nil {
		p := *prev
		res.Previous = &p
	}
	return res, nil
}

// Message is the Ready condition and event message upstream Flux uses.
func (r *Resolution) Message() string {
	if r.Previous != nil && r.Changed && r.Previous.Name == r.Latest.Name {
		return fmt.Sprintf("Latest image tag for '%s' updated from %s to %s", r.Latest.Name, describeRef(r.Previous), describeRef(&r.Latest))
	}
	return fmt.Sprintf("Latest image tag for '%s' resolved to %s", r.Latest.Name, describeRef(&r.Latest))
}

func describeRef(r *imagev1.ImageRef) string {
	if r.Digest != "" {
		return r.Tag + " with digest " + r.Digest
	}
	return r.Tag
}
