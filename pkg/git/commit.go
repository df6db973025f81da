package git

import (
	"strings"
	"time"
)

// CheckoutRef says what to check out; it mirrors GitRepository .spec.ref.
// Precedence: Commit, Name, SemVer, Tag, Branch; with all empty the branch
// "master" is used. Branch combines with Commit: the branch is fetched and
// the commit must be on it.
type CheckoutRef struct {
	Branch string
	Tag    string
	SemVer string
	// Name is a full reference such as "refs/heads/main", "refs/tags/v1"
	// or "refs/pull/1/head".
	Name string
	// Commit is a full (or unambiguous short) SHA-1.
	Commit string
}

// DefaultBranch is checked out when a CheckoutRef is empty.
const DefaultBranch = "master"

// Signature is an author, committer or tagger.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Commit is the checked-out commit and how it was reached.
type Commit struct {
	// Hash is the commit SHA-1 in hex.
	Hash string
	// Reference is the full ref that was checked out ("refs/heads/main",
	// "refs/tags/v1.2.0", "refs/pull/1/head"); empty for a commit checkout.
	Reference string
	// RevisionName, when set, is the name part of String (Name checkouts
	// use the full ref); otherwise it is derived from Reference.
	RevisionName string
	Author       Signature
	Committer    Signature
	Message      string
	// Signature is the armored signature from the gpgsig header (OpenPGP or
	// SSH); empty when unsigned.
	Signature string
	// Encoded is the commit object without its signature: the signed payload.
	Encoded []byte
	// ReferencingTag is the annotated tag the checkout went through.
	ReferencingTag *Tag
}

// Tag is an annotated tag object.
type Tag struct {
	// Name is the tag's short name ("v1.2.0").
	Name string
	// Hash is the tag object's SHA-1 (not the commit's).
	Hash      string
	Tagger    Signature
	Message   string
	Signature string
	// Encoded is the tag object without its signature: the signed payload.
	Encoded []byte
}

// String is the Flux artifact revision: "main@sha1:<hex>" for a branch,
// "v1.2.0@sha1:<hex>" for a tag or semver, "refs/pull/1/head@sha1:<hex>"
// for a name, "sha1:<hex>" for a bare commit.
func (c *Commit) String() string {
	name := c.RevisionName
	if name == "" {
		name = shortRefName(c.Reference)
	}
	return Revision(name, c.Hash)
}

// ShortMessage is the first line of the commit message.
func (c *Commit) ShortMessage() string {
	first, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return first
}

// shortRefName drops "refs/heads/" and "refs/tags/"; other refs stay full.
func shortRefName(ref string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if s, ok := strings.CutPrefix(ref, p); ok {
			return s
		}
	}
	return ref
}

// Revision formats a Flux revision: "<refName>@sha1:<hash>", or
// "sha1:<hash>" when refName is empty.
func Revision(refName, hash string) string {
	if refName == "" {
		return "sha1:" + hash
	}
	return refName + "@sha1:" + hash
}

// SplitRevision splits a revision into its name and hash. It accepts the
// current form ("main@sha1:<hex>", "sha1:<hex>") and the legacy one
// ("main/<hex>", "<hex>") so revisions recorded by older controllers still
// compare. ok is false when no hash can be found.
func SplitRevision(rev string) (name, hash string, ok bool) {
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		if i == 0 {
			return "", "", false
		}
		name, rev = rev[:i], rev[i+1:]
		algo, h, found := strings.Cut(rev, ":")
		if !found || algo != "sha1" || !isHex(h) {
			return "", "", false
		}
		return name, h, true
	}
	if h, found := strings.CutPrefix(rev, "sha1:"); found {
		return "", h, isHex(h)
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 {
		name, rev = rev[:i], rev[i+1:]
	}
	if !isHex(rev) {
		return "", "", false
	}
	return name, rev, true
}

func isHex(s string) bool {
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Resolved is what a remote listing says a CheckoutRef points at, without
// cloning. Its String equals the revision Clone would produce, so a caller
// can skip the clone when the revision has not changed.
type Resolved struct {
	// Name is the revision name ("main", "v1.2.0", "refs/pull/1/head";
	// empty for a commit).
	Name string
	// Reference is the full ref ("refs/heads/main"); empty for a commit.
	Reference string
	// Hash is the commit hash (annotated tags are peeled).
	Hash string
}

// String is the Flux revision, e.g. "main@sha1:<hex>".
func (r *Resolved) String() string { return Revision(r.Name, r.Hash) }
