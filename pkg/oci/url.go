package oci

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"gotk.dev/pkg/redact"
)

// pathComponent is the distribution-spec grammar of one repository path component.
var pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// ParseURL validates an OCIRepository-style URL ("oci://host[:port]/path") and returns the
// repository address without the scheme ("host[:port]/path"). The URL must name a repository,
// not an artifact: tags and digests are chosen separately (spec.ref, --tag).
func ParseURL(repoURL string) (string, error) {
	s, err := trimScheme(repoURL)
	if err != nil {
		return "", err
	}
	// From here on repoURL carries no credentials (trimScheme refused them).
	host, path, ok := strings.Cut(s, "/")
	if !ok || host == "" || path == "" {
		return "", fmt.Errorf("invalid OCI repository URL %q: want oci://<host>/<repository>", repoURL)
	}
	if strings.ContainsAny(path, ":@") {
		return "", fmt.Errorf("invalid OCI repository URL %q: it must not include a tag or digest", repoURL)
	}
	for _, seg := range strings.Split(path, "/") {
		if !pathComponent.MatchString(seg) {
			return "", fmt.Errorf("invalid OCI repository URL %q: path component %q must be lowercase letters and digits separated by '.', '_', '__' or '-'", repoURL, seg)
		}
	}
	if _, err := name.NewRepository(s); err != nil {
		return "", fmt.Errorf("invalid OCI repository URL %q: %w", repoURL, err)
	}
	return s, nil
}

// trimScheme removes the mandatory oci:// prefix. URLs carrying credentials are refused
// without echoing them: credentials belong in a Secret, not in a URL that ends up in status,
// events and logs.
func trimScheme(u string) (string, error) {
	s, ok := strings.CutPrefix(u, URLPrefix)
	if !ok {
		return "", fmt.Errorf("invalid OCI URL %q: it must start with %s", redact.URL(u), URLPrefix)
	}
	if hasUserinfo(s) {
		return "", fmt.Errorf("invalid OCI URL %q: credentials in the URL are not supported, use a docker config Secret", redact.URL(u))
	}
	return s, nil
}

// hasUserinfo reports whether the authority of a scheme-less URL (the part before the first
// '/') contains '@'. A digest's '@' always comes after the repository path.
func hasUserinfo(s string) bool {
	authority, _, _ := strings.Cut(s, "/")
	return strings.Contains(authority, "@")
}

// splitScheme splits "scheme:" plus any slashes off u, when u starts with one.
func splitScheme(u string) (prefix, rest string) {
	i := strings.IndexByte(u, ':')
	if i <= 0 || i+1 >= len(u) || u[i+1] != '/' {
		return "", u
	}
	for _, r := range u[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return "", u
		}
	}
	j := i + 1
	for j < len(u) && u[j] == '/' {
		j++
	}
	return u[:j], u[j:]
}

// RegistryHost returns the registry host[:port] of an oci:// repository URL.
func RegistryHost(repoURL string) (string, error) {
	s, err := ParseURL(repoURL)
	if err != nil {
		return "", err
	}
	repo, err := name.NewRepository(s)
	if err != nil {
		return "", err
	}
	return repo.RegistryStr(), nil
}
