package git

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"gotk.dev/pkg/redact"
)

// maxSubmoduleDepth bounds nested submodules, as git's default does.
const maxSubmoduleDepth = 10

// updateSubmodules checks out every submodule of repo at the commit the
// superproject records, recursively. go-git's own update cannot pass TLS
// settings or a proxy, so each submodule is fetched here with the parent's
// settings. Credentials go only to submodules on the parent's scheme and
// host: a repository must not be able to send them elsewhere via .gitmodules.
// Submodule URLs other than http(s) and ssh (file://, local paths) are refused.
func (r *remote) updateSubmodules(ctx context.Context, repo *gogit.Repository, depth int) error {
	if depth == 0 {
		return fmt.Errorf("submodules nested deeper than %d levels", maxSubmoduleDepth)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	subs, err := wt.Submodules()
	if err != nil {
		return fmt.Errorf("read .gitmodules: %w", err)
	}
	for _, sm := range subs {
		name := sm.Config().Path
		if err := sm.Init(); err != nil && !errors.Is(err, gogit.ErrSubmoduleAlreadyInitialized) {
			return fmt.Errorf("submodule %s: %w", name, err)
		}
		status, err := sm.Status()
		if err != nil {
			return fmt.Errorf("submodule %s: %w", name, err)
		}
		subRepo, err := sm.Repository()
		if err != nil {
			return fmt.Errorf("submodule %s: %w", name, err)
		}
		sub, err := r.forSubmodule(subRepo)
		if err != nil {
			return fmt.Errorf("submodule %s: %w", name, err)
		}
		specs := []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"}
		if err := sub.fetch(ctx, subRepo, specs, 0); err != nil {
			return fmt.Errorf("submodule %s: fetch '%s': %w", name, sub.url, err)
		}
		if _, err := subRepo.CommitObject(status.Expected); err != nil {
			return fmt.Errorf("submodule %s: commit %s not found in '%s'", name, status.Expected, sub.url)
		}
		subWT, err := subRepo.Worktree()
		if err != nil {
			return err
		}
		if err := subWT.Checkout(&gogit.CheckoutOptions{Hash: status.Expected, Force: true}); err != nil {
			return fmt.Errorf("submodule %s: checkout %s: %w", name, status.Expected, err)
		}
		if err := sub.updateSubmodules(ctx, subRepo, depth-1); err != nil {
			return fmt.Errorf("submodule %s: %w", name, err)
		}
	}
	return nil
}

// forSubmodule derives the remote settings for a submodule repository whose
// origin go-git has already resolved (relative URLs included).
func (r *remote) forSubmodule(subRepo *gogit.Repository) (*remote, error) {
	origin, err := subRepo.Remote("origin")
	if err != nil {
		return nil, err
	}
	raw := origin.Config().URLs[0]
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ssh") {
		return nil, fmt.Errorf("unsupported submodule URL %q: only http, https and ssh are allowed", redact.URL(raw))
	}
	if _, ok := u.User.Password(); ok {
		return nil, fmt.Errorf("submodule URL '%s' embeds a password; put credentials in the repository's Secret", redact.URL(raw))
	}
	clean := *u
	clean.User = nil
	sub := &remote{url: clean.String(), parsed: &clean, proxy: r.proxy, secrets: r.secrets}
	if strings.EqualFold(u.Scheme, r.parsed.Scheme) && strings.EqualFold(u.Host, r.parsed.Host) {
		sub.auth, sub.caBundle, sub.clientCert, sub.clientKey = r.auth, r.caBundle, r.clientCert, r.clientKey
	} else if u.Scheme == "ssh" {
		return nil, fmt.Errorf("no credentials for SSH submodule '%s' on another host than %s", sub.url, r.parsed.Host)
	}
	return sub, nil
}
