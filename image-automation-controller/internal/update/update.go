// Package update is the Git side of ImageUpdateAutomation: clone the GitRepository at the
// checkout ref, run the setters under .spec.update.path, commit (optionally signed) with a
// message from .spec.git.commit.messageTemplate, and push to .spec.git.push.branch and/or
// .spec.git.push.refspec with push options, pushing only when something changed.
//
// A push rejected because the branch moved (someone pushed between clone and push) is retried
// from a fresh clone: the setters are re-applied on top of the new commits, at most
// Options.MaxAttempts times. Nothing is force-pushed over a commit this run has not seen: the
// only forced update is the separate push branch (upstream's GitForcePushBranch behaviour),
// and it is conditional on the branch still holding the commit observed before the push.
//
// A reconciler step calls Run with options built from the ImageUpdateAutomation, its
// GitRepository and their Secrets, and maps the typed errors: *ConfigError, *TemplateError and
// *SigningError stall (the spec or a Secret must change); other errors are Git failures to
// retry.
package update

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gotk.dev/image-automation-controller/internal/setters"
	"gotk.dev/pkg/git"
)

// DefaultMaxAttempts bounds the clone-update-push cycles when pushes keep being rejected.
const DefaultMaxAttempts = 3

// Options describe one automation run.
type Options struct {
	// URL is the GitRepository's .spec.url; Auth comes from its .spec.secretRef. Its
	// .spec.proxySecretRef goes into the git.Client handed to Run (git.ClientOptions.Proxy).
	URL  string
	Auth *git.AuthOptions
	// Checkout is .spec.git.checkout.ref, or the GitRepository's .spec.ref when that is unset.
	Checkout git.CheckoutRef
	// Path is .spec.update.path, relative to the repository root ("" is the root).
	Path string
	// Policies are the latest images of the selected ImagePolicies.
	Policies []setters.Policy

	// AuthorName and AuthorEmail are .spec.git.commit.author (author and committer).
	AuthorName, AuthorEmail string
	// Signer signs the commit (NewSigner); nil leaves it unsigned.
	Signer gogit.Signer
	// MessageTemplate and MessageTemplateValues are .spec.git.commit.messageTemplate(Values).
	MessageTemplate       string
	MessageTemplateValues map[string]string
	// Automation names the ImageUpdateAutomation in the message template data.
	Automation AutomationObject

	// PushBranch is .spec.git.push.branch; empty means the checkout branch.
	PushBranch string
	// PushRefspec is .spec.git.push.refspec, pushed in addition to the branch.
	PushRefspec string
	// PushOptions are .spec.git.push.options (git push -o).
	PushOptions map[string]string
	// DisableForcePushBranch is the GitForcePushBranch feature gate turned off. By default (as
	// upstream) a push branch other than the checkout branch is reset to the checkout plus this
	// run's commit; with this set, the update is made on top of the existing push branch.
	DisableForcePushBranch bool
	// ShallowClone is the GitShallowClone feature gate: fetch only the tip commit.
	ShallowClone bool
	// MaxAttempts bounds retries after rejected pushes (default DefaultMaxAttempts).
	MaxAttempts int
	// WorkDir holds the temporary clones (default: the system temporary directory).
	WorkDir string
	// Now stamps the commit (default time.Now).
	Now func() time.Time

	// beforePush runs just before each push; tests use it to race the push.
	beforePush func(attempt int)
}

// Result is the outcome of Run.
type Result struct {
	// ObservedRevision is the checked-out revision ("main@sha1:<hex>"), for
	// .status.observedSourceRevision.
	ObservedRevision string
	// Changed is true when a commit was made and pushed.
	Changed bool
	// Commit is the pushed commit's hash (.status.lastPushCommit); empty when nothing changed.
	Commit string
	// PushBranch is the branch the commit was pushed to.
	PushBranch string
	// PushedRefs are the remote refs updated ("refs/heads/auto", "refs/for/main").
	PushedRefs []string
	// Message is the commit message.
	Message string
	// Changes, Skipped and Warnings are the setters' report of the final attempt.
	Changes  setters.Result
	Skipped  []setters.SkippedFile
	Warnings []setters.FileWarning
	// Attempts is the number of clone-update-push cycles it took.
	Attempts int
}

// EventMessage is the event upstream Flux records for a push: "pushed commit '<short>' to
// branch '<branch>'" (and the refspec's destination, when one was pushed), then the commit message. It is
// empty when nothing was pushed.
func (r *Result) EventMessage() string {
	if !r.Changed {
		return ""
	}
	short := r.Commit
	if len(short) > 7 {
		short = short[:7]
	}
	msg := fmt.Sprintf("pushed commit '%s' to branch '%s'", short, r.PushBranch)
	if len(r.PushedRefs) > 1 {
		msg += fmt.Sprintf(" and to '%s'", strings.Join(r.PushedRefs[1:], "', '"))
	}
	return msg + "\n" + r.Message
}

// ConfigError is an automation spec that cannot work (a stalling failure).
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Run clones, updates, commits and pushes. See the package documentation.
func Run(ctx context.Context, client *git.Client, opts Options) (*Result, error) {
	pushBranch := opts.PushBranch
	checkoutBranch := checkoutBranchOf(opts.Checkout)
	if pushBranch == "" {
		pushBranch = checkoutBranch
	}
	if pushBranch == "" {
		return nil, &ConfigError{Msg: "no branch to push to: set .spec.git.push.branch, or check out a branch"}
	}
	if err := validBranch(pushBranch); err != nil {
		return nil, err
	}
	extra, err := parseRefspec(opts.PushRefspec)
	if err != nil {
		return nil, err
	}
	relPath, err := cleanUpdatePath(opts.Path)
	if err != nil {
		return nil, err
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &runner{client: client, opts: opts, pushBranch: pushBranch,
		separateBranch: pushBranch != checkoutBranch, extraRefspec: extra, relPath: relPath}
	for attempt := 1; ; attempt++ {
		res, err := r.attempt(ctx, attempt)
		if errors.Is(err, errRejected) && attempt < opts.MaxAttempts {
			continue
		}
		if err != nil {
			if errors.Is(err, errRejected) {
				return nil, fmt.Errorf("push rejected %d times, the branch keeps moving: %w", attempt, err)
			}
			return nil, err
		}
		res.Attempts = attempt
		return res, nil
	}
}

type runner struct {
	client         *git.Client
	opts           Options
	pushBranch     string
	separateBranch bool
	extraRefspec   *config.RefSpec
	relPath        string
}

// attempt is one clone-update-commit-push cycle in a fresh directory.
func (r *runner) attempt(ctx context.Context, attempt int) (*Result, error) {
	dir, err := os.MkdirTemp(r.opts.WorkDir, "image-update-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// The push branch's current value, read before the clone: a forced update may replace
	// exactly this, and nothing pushed after it.
	var remoteTip string
	if r.separateBranch {
		refs, err := r.client.ListRefs(ctx, r.opts.URL, r.opts.Auth)
		if err != nil {
			return nil, err
		}
		remoteTip = refs["refs/heads/"+r.pushBranch]
	}
	commit, err := r.client.Clone(ctx, r.opts.URL, dir, r.opts.Auth, r.opts.Checkout, git.CloneOptions{ShallowIfPossible: r.opts.ShallowClone})
	if err != nil {
		return nil, err
	}
	res := &Result{ObservedRevision: commit.String(), PushBranch: r.pushBranch}
	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		return nil, err
	}
	force, base, err := r.switchToPushBranch(ctx, repo, dir, commit.Hash, remoteTip)
	if err != nil {
		return nil, err
	}

	root, err := securejoin.SecureJoin(dir, r.relPath)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("invalid .spec.update.path %q: %v", r.opts.Path, err)}
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, &ConfigError{Msg: fmt.Sprintf(".spec.update.path %q is not a directory in %s", r.opts.Path, res.ObservedRevision)}
	}
	report, err := setters.Apply(root, r.opts.Policies)
	if err != nil {
		return nil, err
	}
	res.Changes, res.Skipped, res.Warnings = report.Result, report.Skipped, report.Warnings
	if !report.Changed() {
		return res, nil
	}

	msg, err := RenderMessage(r.opts.MessageTemplate, TemplateData{
		AutomationObject: r.opts.Automation, Changed: report.Result, Values: r.opts.MessageTemplateValues})
	if err != nil {
		return nil, err
	}
	hash, err := r.commit(repo, dir, root, report.Result, msg)
	if err != nil {
		return nil, err
	}
	spec := r.pushSpec(force, base, remoteTip)
	if r.opts.beforePush != nil {
		r.opts.beforePush(attempt)
	}
	if err := r.push(ctx, dir, spec); err != nil {
		return nil, err
	}
	res.Changed, res.Commit, res.Message = true, hash, msg
	for _, rs := range spec.refSpecs {
		res.PushedRefs = append(res.PushedRefs, rs.Dst("").String())
	}
	return res, nil
}

// switchToPushBranch checks out the push branch: the cloned branch itself, an existing push
// branch (updates on top of it, DisableForcePushBranch) or a new one at the checkout. It reports
// whether the push must be forced, and the remote value the push branch must still have for
// a fast-forward push ("" when the branch is new).
func (r *runner) switchToPushBranch(ctx context.Context, repo *gogit.Repository, dir, checkout, remoteTip string) (force bool, base string, err error) {
	if !r.separateBranch {
		return false, checkout, nil
	}
	branch := plumbing.NewBranchReferenceName(r.pushBranch)
	start := plumbing.NewHash(checkout)
	force = remoteTip != ""
	if remoteTip != "" && r.opts.DisableForcePushBranch {
		depth := 0
		if r.opts.ShallowClone {
			depth = 1
		}
		if err := r.fetchBranch(ctx, dir, r.pushBranch, depth); err != nil {
			return false, "", err
		}
		start, force, base = plumbing.NewHash(remoteTip), false, remoteTip
	}
	wt, err := repo.Worktree()
	if err != nil {
		return false, "", err
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Hash: start, Branch: branch, Create: true, Force: true}); err != nil {
		return false, "", fmt.Errorf("failed to switch to branch '%s': %w", r.pushBranch, err)
	}
	return force, base, nil
}

// commit stages the changed files and commits them.
func (r *runner) commit(repo *gogit.Repository, dir, root string, changes setters.Result, msg string) (string, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	base, err := filepath.Rel(dir, root)
	if err != nil {
		return "", err
	}
	// Only the files the setters rewrote are staged, without a worktree status per file
	// (which made staging 100 files cost seconds).
	for _, f := range changes.Files() {
		if err := wt.AddWithOptions(&gogit.AddOptions{Path: path.Join(filepath.ToSlash(base), f), SkipStatus: true}); err != nil {
			return "", fmt.Errorf("failed to stage %s: %w", f, err)
		}
	}
	who := &object.Signature{Name: r.opts.AuthorName, Email: r.opts.AuthorEmail, When: r.opts.Now()}
	h, err := wt.Commit(msg, &gogit.CommitOptions{Author: who, Committer: who, Signer: r.opts.Signer})
	if err != nil {
		return "", fmt.Errorf("failed to commit: %w", err)
	}
	return h.String(), nil
}

// pushSpec pushes the branch and the extra refspec. The branch update is conditional on the
// remote still holding what this run built on (base) or, for a forced replacement of a
// separate push branch, what it saw there (remoteTip): a commit pushed by anyone else in the
// meantime makes the push fail and the run start over, it is never overwritten.
func (r *runner) pushSpec(force bool, base, remoteTip string) pushSpec {
	ref := "refs/heads/" + r.pushBranch
	spec := pushSpec{options: r.opts.PushOptions}
	switch {
	case force:
		spec.refSpecs = append(spec.refSpecs, config.RefSpec("+"+ref+":"+ref))
		spec.require = append(spec.require, config.RefSpec(remoteTip+":"+ref))
	case base != "":
		spec.refSpecs = append(spec.refSpecs, config.RefSpec(ref+":"+ref))
		spec.require = append(spec.require, config.RefSpec(base+":"+ref))
	default: // a new branch: creating it fails if someone else created it first
		spec.refSpecs = append(spec.refSpecs, config.RefSpec(ref+":"+ref))
	}
	if r.extraRefspec != nil {
		spec.refSpecs = append(spec.refSpecs, *r.extraRefspec)
	}
	return spec
}

// checkoutBranchOf is the branch a checkout ref leaves HEAD on; empty for tags, semver, names
// and commits.
func checkoutBranchOf(ref git.CheckoutRef) string {
	switch {
	case ref.Commit != "", ref.Name != "", ref.SemVer != "", ref.Tag != "":
		return ""
	case ref.Branch == "":
		return git.DefaultBranch
	}
	return ref.Branch
}

func validBranch(b string) error {
	if err := plumbing.NewBranchReferenceName(b).Validate(); err != nil {
		return &ConfigError{Msg: fmt.Sprintf("invalid push branch %q: %v", b, err)}
	}
	return nil
}

// parseRefspec validates .spec.git.push.refspec: no deletion (empty source), no forced
// update ("+"), no wildcard.
func parseRefspec(s string) (*config.RefSpec, error) {
	if s == "" {
		return nil, nil
	}
	bad := func(why string) (*config.RefSpec, error) {
		return nil, &ConfigError{Msg: fmt.Sprintf("invalid .spec.git.push.refspec %q: %s", s, why)}
	}
	rs := config.RefSpec(s)
	switch {
	case strings.HasPrefix(s, "+"):
		return bad("force-update refspecs (+) are not supported")
	case strings.HasPrefix(s, ":"):
		return bad("deletion refspecs (empty source) are not supported")
	}
	if err := rs.Validate(); err != nil {
		return bad(err.Error())
	}
	if rs.IsWildcard() {
		return bad("wildcards are not supported")
	}
	return &rs, nil
}

// cleanUpdatePath turns .spec.update.path into a path relative to the clone that cannot leave
// it ("./", "/" and "" are the root).
func cleanUpdatePath(p string) (string, error) {
	rel := path.Clean("/" + filepath.ToSlash(strings.TrimSpace(p)))
	if strings.Contains(filepath.ToSlash(p), "..") && !filepath.IsLocal(strings.TrimPrefix(path.Clean(filepath.ToSlash(p)), "/")) {
		return "", &ConfigError{Msg: fmt.Sprintf("invalid .spec.update.path %q: it must stay inside the repository", p)}
	}
	return strings.TrimPrefix(rel, "/"), nil
}
