package update

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"

	"gotk.dev/pkg/git"
	"gotk.dev/pkg/redact"
)

// This file pushes with go-git directly because pkg/git's Push has neither push options nor a
// way to require the remote's current value (compare-and-swap) yet. It converts pkg/git.AuthOptions the way pkg/git does (host keys are
// always verified against the Secret's known_hosts); once pkg/git.PushOptions grows Options
// and RequireRemoteRefs, this file can go.

// pushSpec is one push: refspecs ("+" marks a forced update), push options, and for forced
// updates the remote values they may overwrite ("<hash>:refs/heads/x"), so a commit pushed by
// someone else since the fetch is never overwritten.
type pushSpec struct {
	refSpecs []config.RefSpec
	options  map[string]string
	require  []config.RefSpec
}

// errRejected marks a push the remote refused because the branch moved (non-fast-forward or a
// broken lease): the caller re-fetches and retries.
var errRejected = errors.New("the remote branch moved since it was fetched")

// push sends spec from the repository in dir to its origin.
func push(ctx context.Context, dir string, access *remoteAccess, spec pushSpec) error {
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return err
	}
	origin, err := repo.Remote("origin")
	if err != nil {
		return err
	}
	url := origin.Config().URLs[0]
	err = repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName:        "origin",
		RefSpecs:          spec.refSpecs,
		Options:           spec.options,
		RequireRemoteRefs: spec.require,
		Auth:              access.auth,
		CABundle:          access.caBundle,
		ClientCert:        access.clientCert,
		ClientKey:         access.clientKey,
		ProxyOptions:      access.proxy,
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return nil
	// A missing object means the remote ref points at a commit this (possibly shallow) clone
	// has never seen, i.e. the branch moved.
	case errors.Is(err, gogit.ErrNonFastForwardUpdate) || errors.Is(err, plumbing.ErrObjectNotFound) || isRemoteRejection(err):
		return fmt.Errorf("push to '%s': %w (%s)", redact.URL(url), errRejected, access.scrub(err))
	}
	return fmt.Errorf("failed to push to '%s': %w", redact.URL(url), access.scrub(err))
}

// fetchBranch fetches branch into refs/remotes/origin/<branch> of the repository in dir.
func fetchBranch(ctx context.Context, repo *gogit.Repository, access *remoteAccess, branch string, depth int) error {
	spec := config.RefSpec("+refs/heads/" + branch + ":refs/remotes/origin/" + branch)
	err := repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName:   "origin",
		RefSpecs:     []config.RefSpec{spec},
		Depth:        depth,
		Tags:         gogit.NoTags,
		Auth:         access.auth,
		CABundle:     access.caBundle,
		ClientCert:   access.clientCert,
		ClientKey:    access.clientKey,
		ProxyOptions: access.proxy,
	})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return fmt.Errorf("failed to fetch branch '%s': %w", branch, access.scrub(err))
	}
	return nil
}

// isRemoteRejection recognises the server refusing a ref update in its report-status (a race
// lost after the ref advertisement, or a failed lease).
func isRemoteRejection(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "non-fast-forward") || strings.Contains(msg, "fetch first") ||
		strings.Contains(msg, "required to be") ||
		strings.Contains(msg, "stale info") || strings.Contains(msg, "failed to update ref")
}

// remoteAccess is what go-git needs to reach the remote, built from pkg/git's options.
type remoteAccess struct {
	auth                  transport.AuthMethod
	caBundle              []byte
	clientCert, clientKey []byte
	proxy                 transport.ProxyOptions
	secrets               []string
	cleanup               func()
}

func (a *remoteAccess) scrub(err error) error { return scrub(err, a.secrets) }

// newRemoteAccess converts credentials, TLS and proxy settings. Call cleanup when done: an SSH
// remote needs a temporary known_hosts file.
func newRemoteAccess(ctx context.Context, auth *git.AuthOptions, proxy *git.ProxyOptions) (*remoteAccess, error) {
	a := &remoteAccess{cleanup: func() {}}
	if proxy != nil && proxy.URL != "" {
		a.proxy = transport.ProxyOptions{URL: proxy.URL, Username: proxy.Username, Password: proxy.Password}
		a.secrets = append(a.secrets, proxy.Password)
	}
	if auth == nil {
		return a, nil
	}
	a.secrets = append(a.secrets, auth.Password, auth.BearerToken, string(auth.Identity), string(auth.TLSKey))
	switch auth.Transport {
	case git.HTTP, git.HTTPS:
		switch {
		case auth.BearerToken != "":
			a.auth = &githttp.TokenAuth{Token: auth.BearerToken}
		case auth.Username != "":
			a.auth = &githttp.BasicAuth{Username: auth.Username, Password: auth.Password}
		}
		a.caBundle, a.clientCert, a.clientKey = auth.CACert, auth.TLSCert, auth.TLSKey
	case git.SSH:
		method, cleanup, err := sshAuth(ctx, auth)
		a.auth, a.cleanup = method, cleanup
		if err != nil {
			cleanup()
			return nil, a.scrub(err)
		}
	}
	return a, nil
}

func sshAuth(ctx context.Context, auth *git.AuthOptions) (transport.AuthMethod, func(), error) {
	noop := func() {}
	if err := auth.Validate(); err != nil {
		return nil, noop, err
	}
	keys, err := gitssh.NewPublicKeys(auth.Username, auth.Identity, auth.Password)
	if err != nil {
		return nil, noop, fmt.Errorf("invalid '%s' for %s: %v", git.KeyIdentity, auth.Host, err)
	}
	dir, err := os.MkdirTemp("", "known-hosts-")
	if err != nil {
		return nil, noop, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	file := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(file, auth.KnownHosts, 0o600); err != nil {
		return nil, cleanup, err
	}
	db, err := knownhosts.NewDB(file)
	if err != nil {
		return nil, cleanup, fmt.Errorf("invalid '%s' for %s: %v", git.KeyKnownHosts, auth.Host, err)
	}
	host := auth.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "22")
	}
	keys.HostKeyCallback = db.HostKeyCallback()
	keys.HostKeyAlgorithms = db.HostKeyAlgorithms(host)
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	return &timedSSH{PublicKeys: keys, timeout: timeout}, cleanup, nil
}

// timedSSH bounds the SSH dial and handshake, which go-git does not tie to the context.
type timedSSH struct {
	*gitssh.PublicKeys
	timeout time.Duration
}

func (a *timedSSH) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = a.timeout
	return cfg, nil
}

// scrub removes URL credentials and secret values from an error message.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := redact.String(err.Error())
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	return errors.New(msg)
}
