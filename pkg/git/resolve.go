package git

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"gotk.dev/pkg/redact"
)

func (r *remote) config() *config.RemoteConfig {
	return &config.RemoteConfig{Name: "origin", URLs: []string{r.url}}
}

// ResolveRef finds the commit ref points at with one remote listing and no
// clone. A Commit needs no listing at all (with a Branch, the revision is
// "<branch>@sha1:<commit>" as Clone reports it). Use it to skip a clone when
// the revision is unchanged.
func (c *Client) ResolveRef(ctx context.Context, repoURL string, auth *AuthOptions, ref CheckoutRef) (*Resolved, error) {
	if ref.Commit != "" {
		res := &Resolved{Hash: ref.Commit}
		if ref.Branch != "" {
			res.Name, res.Reference = ref.Branch, plumbing.NewBranchReferenceName(ref.Branch).String()
		}
		return res, nil
	}
	r, err := c.newRemote(ctx, repoURL, auth)
	if err != nil {
		return nil, redact.Error(err, auth.secrets()...)
	}
	refs, err := r.list(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resolveListed(refs, ref)
	if err != nil {
		return nil, r.errorf(err, "unable to resolve %s in '%s'", describeRef(ref), r.url)
	}
	return res, nil
}

// resolveListed picks ref out of a listing (see ListRefs).
func resolveListed(refs map[string]string, ref CheckoutRef) (*Resolved, error) {
	var name, full string
	switch {
	case ref.Name != "":
		name, full = ref.Name, ref.Name
	case ref.SemVer != "":
		tag, err := latestSemverTag(refs, ref.SemVer)
		if err != nil {
			return nil, err
		}
		name, full = tag, "refs/tags/"+tag
	case ref.Tag != "":
		name, full = ref.Tag, "refs/tags/"+ref.Tag
	default:
		name = ref.Branch
		if name == "" {
			name = DefaultBranch
		}
		full = "refs/heads/" + name
	}
	hash, ok := refs[full+"^{}"]
	if !ok {
		hash, ok = refs[full]
	}
	if !ok {
		return nil, fmt.Errorf("couldn't find remote ref %q", full)
	}
	return &Resolved{Name: name, Reference: full, Hash: hash}, nil
}

// latestSemverTag returns the tag with the highest version within the
// Masterminds constraint. Tags may carry a "v" prefix. When two tags parse to
// the same version ("v1.0.0" and "1.0.0"), the lexically greater name wins so
// the choice is deterministic without fetching commit dates.
func latestSemverTag(refs map[string]string, constraint string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("semver range %q: %w", constraint, err)
	}
	type candidate struct {
		tag string
		v   *semver.Version
	}
	var found []candidate
	for ref := range refs {
		tag, ok := strings.CutPrefix(ref, "refs/tags/")
		if !ok || strings.HasSuffix(tag, "^{}") {
			continue
		}
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		found = append(found, candidate{tag, v})
	}
	if len(found) == 0 {
		return "", fmt.Errorf("no tag matches semver range %q", constraint)
	}
	sort.Slice(found, func(i, j int) bool {
		if cmp := found[i].v.Compare(found[j].v); cmp != 0 {
			return cmp > 0
		}
		return found[i].tag > found[j].tag
	})
	return found[0].tag, nil
}

func describeRef(ref CheckoutRef) string {
	switch {
	case ref.Commit != "" && ref.Branch != "":
		return fmt.Sprintf("commit %q on branch %q", ref.Commit, ref.Branch)
	case ref.Commit != "":
		return fmt.Sprintf("commit %q", ref.Commit)
	case ref.Name != "":
		return fmt.Sprintf("ref %q", ref.Name)
	case ref.SemVer != "":
		return fmt.Sprintf("semver %q", ref.SemVer)
	case ref.Tag != "":
		return fmt.Sprintf("tag %q", ref.Tag)
	case ref.Branch != "":
		return fmt.Sprintf("branch %q", ref.Branch)
	}
	return fmt.Sprintf("branch %q", DefaultBranch)
}
