// Package provider is the part of the Git hosts' REST APIs that bootstrap needs: find or
// create a repository, register deploy keys (and GitLab deploy tokens), give teams access,
// set the visibility. GitHub, GitLab, Gitea and Bitbucket Server implement Client; their
// errors are *Error values that name the request and carry the host's own message, never
// the token.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Visibility values (GitLab's names; GitHub has internal too, Gitea and Bitbucket Server
// only private and public).
const (
	Private  = "private"
	Public   = "public"
	Internal = "internal"
)

// Repository is a host's repository as bootstrap sees it.
type Repository struct {
	Owner, Name string
	// ID is the host's own identifier where the API needs one (a GitLab project id).
	ID            string
	WebURL        string
	CloneURL      string // HTTPS
	SSHURL        string
	DefaultBranch string
	Visibility    string
	Archived      bool
}

// RepositorySpec is a repository to create.
type RepositorySpec struct {
	Owner, Name string
	// Personal puts the repository under the token's user instead of an organisation,
	// group or project.
	Personal      bool
	Visibility    string
	Description   string
	DefaultBranch string
}

// DeployKey is an SSH key with access to one repository.
type DeployKey struct {
	ID       string
	Title    string
	Key      string // authorized_keys format
	ReadOnly bool
}

// TeamAccess gives a team (GitHub, Gitea), group (GitLab, Bitbucket Server) access.
type TeamAccess struct {
	Team string
	// Permission is the host's word for the level; "" is the host's default.
	Permission string
}

// Client is one Git host's API, authenticated with a token.
type Client interface {
	// Name is the host's product name, for messages ("GitHub").
	Name() string
	// GetRepository returns ErrNotFound (wrapped) when there is no such repository.
	GetRepository(ctx context.Context, owner, name string, personal bool) (*Repository, error)
	CreateRepository(ctx context.Context, spec RepositorySpec) (*Repository, error)
	SetVisibility(ctx context.Context, repo *Repository, visibility string) error
	DeployKeys(ctx context.Context, repo *Repository) ([]DeployKey, error)
	AddDeployKey(ctx context.Context, repo *Repository, key DeployKey) error
	DeleteDeployKey(ctx context.Context, repo *Repository, id string) error
	// GrantTeam gives a team access and reports whether that changed anything.
	GrantTeam(ctx context.Context, repo *Repository, access TeamAccess) (bool, error)
	// GitCredentials are the basic auth credentials for Git over HTTPS with the token.
	GitCredentials() (username, password string)
}

// DeployTokens is implemented by hosts that issue read-only tokens per repository (GitLab).
type DeployTokens interface {
	// NewDeployToken creates a token named name (replacing one of that name: a token's
	// value can be read only when it is created) and returns its user name and value.
	NewDeployToken(ctx context.Context, repo *Repository, name string) (username, token, id string, err error)
	DeleteDeployToken(ctx context.Context, repo *Repository, id string) error
}

// ErrNotFound is what GetRepository wraps when the repository does not exist.
var ErrNotFound = errors.New("not found")

// Error is an API answer other than success.
type Error struct {
	Method, URL string
	Status      int
	Message     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// StatusOf is the HTTP status of an API error (0 for other errors).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// UnreachableError is an API that could not be reached at all (DNS, refused, TLS).
type UnreachableError struct {
	Name, Base string
	Err        error
}

func (e *UnreachableError) Error() string {
	return "cannot reach the " + e.Name + " API at " + e.Base + ": " + e.Err.Error()
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// SameKey compares two authorized_keys lines by type and key, ignoring comments.
func SameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}
