package registry

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Image is a parsed ImageRepository .spec.image.
type Image struct {
	// Repository is the go-containerregistry name used for requests.
	Repository name.Repository
	// Canonical is the name with every implied part explicit, as upstream Flux reports it in
	// .status.canonicalImageName: "nginx" becomes "index.docker.io/library/nginx".
	Canonical string
}

// String is the canonical name.
func (i Image) String() string { return i.Canonical }

// InvalidImageError says .spec.image cannot be used; the user has to change it (upstream
// reason ImageURLInvalid, a stalling failure).
type InvalidImageError struct {
	Image  string
	Reason string
}

func (e *InvalidImageError) Error() string {
	return fmt.Sprintf("invalid image %q in .spec.image: %s", e.Image, e.Reason)
}

// IsInvalidImage reports whether err is (or wraps) an InvalidImageError.
func IsInvalidImage(err error) bool {
	var e *InvalidImageError
	return errors.As(err, &e)
}

// ParseImage parses .spec.image: a repository address without scheme, tag or digest, such as
// "ghcr.io/org/app", "nginx" or "127.0.0.1:5000/app". insecure (.spec.insecure) allows plain
// HTTP for registries that are not on a loopback or private address.
func ParseImage(image string, insecure bool) (Image, error) {
	image = strings.TrimSpace(image)
	invalid := func(format string, args ...any) (Image, error) {
		return Image{}, &InvalidImageError{Image: image, Reason: fmt.Sprintf(format, args...)}
	}
	if image == "" {
		return invalid("the image is empty")
	}
	if i := strings.Index(image, "://"); i >= 0 {
		return invalid("remove the scheme %q: the image is an address such as ghcr.io/org/app", image[:i+3])
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(image, opts...)
	if err != nil {
		// "app:1.0" and "app@sha256:..." are valid references but not repositories: say so
		// rather than complain about characters.
		if ref, refErr := name.ParseReference(image, append(opts, name.StrictValidation)...); refErr == nil {
			return invalid("it names %s %q: give the repository only (%s)", identifierKind(ref), ref.Identifier(), ref.Context().String())
		}
		return invalid("could not parse reference: %v", err)
	}
	return Image{Repository: repo, Canonical: repo.Name()}, nil
}

func identifierKind(ref name.Reference) string {
	if _, ok := ref.(name.Digest); ok {
		return "the digest"
	}
	return "the tag"
}
