package repository

import (
	"fmt"
	"net/url"
	"strings"

	"helm.sh/helm/v3/pkg/repo"
)

// URLError reports a repository or chart URL that cannot be used. It is a configuration
// problem: retrying without a spec change will not help. The URL in the message never
// carries credentials.
type URLError struct {
	URL    string
	Reason string
}

func (e *URLError) Error() string {
	return fmt.Sprintf("invalid Helm repository URL '%s': %s", e.URL, e.Reason)
}

// NormalizeURL returns the canonical form of a repository URL used to compare and index
// repositories: OCI URLs without a trailing slash, HTTP(S) URLs with exactly one. Dependency
// repositories in Chart.yaml are matched against HelmRepository spec.url in this form.
func NormalizeURL(repositoryURL string) string {
	if repositoryURL == "" {
		return ""
	}
	trimmed := strings.TrimRight(repositoryURL, "/")
	if strings.HasPrefix(repositoryURL, "oci://") {
		return trimmed
	}
	return trimmed + "/"
}

// parseRepositoryURL validates an HTTP(S) repository URL. Credentials in the URL are refused
// (they would end up in status, events and logs): they belong in spec.secretRef.
func parseRepositoryURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &URLError{URL: redact(raw), Reason: "cannot be parsed"}
	}
	if u.User != nil {
		return nil, &URLError{URL: u.Redacted(), Reason: "credentials in the URL are not supported, use spec.secretRef"}
	}
	switch u.Scheme {
	case "http", "https":
	case "oci":
		return nil, &URLError{URL: raw, Reason: "an oci:// URL needs spec.type 'oci'"}
	default:
		return nil, &URLError{URL: raw, Reason: fmt.Sprintf("scheme %q is not supported, want http or https", u.Scheme)}
	}
	if u.Host == "" {
		return nil, &URLError{URL: raw, Reason: "it has no host"}
	}
	return u, nil
}

// redact removes anything that looks like userinfo from a URL that did not parse.
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		authority = "xxxxx@" + authority[i+1:]
	}
	if path != "" {
		return scheme + "://" + authority + "/" + path
	}
	return scheme + "://" + authority
}

// indexURL is where helm looks for the index of a repository: index.yaml joined to the
// repository URL, keeping its query string (repo.ResolveReferenceURL, as `helm repo add`).
func indexURL(base string) (string, error) {
	return repo.ResolveReferenceURL(base, "index.yaml")
}
