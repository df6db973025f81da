package notifier

import (
	"fmt"
	"net/url"
	"strings"
)

// repoAddress is a Git repository address split into its API host and repository path.
type repoAddress struct {
	scheme, host string
	// path is the repository path without a leading slash or `.git` suffix, e.g. `org/repo`.
	path string
}

// parseRepoAddress accepts https://host/org/repo(.git), ssh://git@host/org/repo.git and the
// scp-like git@host:org/repo.git (SSH addresses map to https on the same host).
func parseRepoAddress(addr string) (repoAddress, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return repoAddress{}, permanent("the address (repository URL) is required")
	}
	if !strings.Contains(addr, "://") {
		// scp-like: [user@]host:path
		if at := strings.Index(addr, "@"); at >= 0 {
			addr = addr[at+1:]
		}
		host, path, ok := strings.Cut(addr, ":")
		if !ok || host == "" || path == "" {
			return repoAddress{}, permanent("the address %q is not a repository URL", redactURL(addr))
		}
		addr = "ssh://" + host + "/" + path
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return repoAddress{}, permanent("the address %s is not a repository URL", redactURL(addr))
	}
	scheme := u.Scheme
	host := u.Host
	switch scheme {
	case "http", "https":
	case "ssh":
		scheme = "https"
		host = u.Hostname() // an SSH port says nothing about the HTTPS one
	default:
		return repoAddress{}, permanent("the address scheme %q is not supported (use https)", u.Scheme)
	}
	path := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if path == "" {
		return repoAddress{}, permanent("the address %s names no repository", redactURL(addr))
	}
	return repoAddress{scheme: scheme, host: host, path: path}, nil
}

// ownerRepo splits a two-segment path (GitHub, Gitea, Bitbucket Cloud).
func (r repoAddress) ownerRepo() (string, string, error) {
	parts := strings.Split(r.path, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", permanent("the repository path %q must be <owner>/<repository>", r.path)
	}
	return parts[0], parts[1], nil
}

func (r repoAddress) baseURL() string { return r.scheme + "://" + r.host }

func (r repoAddress) String() string { return fmt.Sprintf("%s/%s", r.baseURL(), r.path) }
