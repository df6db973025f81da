package git

import (
	"strings"
	"testing"
)

const hexHash = "0123456789abcdef0123456789abcdef01234567"

func TestCommitString(t *testing.T) {
	tests := []struct {
		commit Commit
		want   string
	}{
		{Commit{Hash: hexHash, Reference: "refs/heads/main"}, "main@sha1:" + hexHash},
		{Commit{Hash: hexHash, Reference: "refs/heads/feature/x"}, "feature/x@sha1:" + hexHash},
		{Commit{Hash: hexHash, Reference: "refs/tags/v1.2.0"}, "v1.2.0@sha1:" + hexHash},
		{Commit{Hash: hexHash}, "sha1:" + hexHash},
		{Commit{Hash: hexHash, Reference: "refs/pull/1/head"}, "refs/pull/1/head@sha1:" + hexHash},
		{Commit{Hash: hexHash, Reference: "refs/heads/main", RevisionName: "refs/heads/main"}, "refs/heads/main@sha1:" + hexHash},
	}
	for _, tt := range tests {
		if got := tt.commit.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.commit, got, tt.want)
		}
	}
	if got := Revision("", hexHash); got != "sha1:"+hexHash {
		t.Errorf("Revision without name = %q", got)
	}
	c := Commit{Message: "\n  subject line\n\nbody\n"}
	if got := c.ShortMessage(); got != "subject line" {
		t.Errorf("ShortMessage = %q", got)
	}
}

func TestSplitRevision(t *testing.T) {
	tests := []struct {
		rev, name, hash string
		ok              bool
	}{
		{"main@sha1:" + hexHash, "main", hexHash, true},
		{"refs/pull/1/head@sha1:" + hexHash, "refs/pull/1/head", hexHash, true},
		{"sha1:" + hexHash, "", hexHash, true},
		{"main/" + hexHash, "main", hexHash, true},
		{"feature/x/" + hexHash, "feature/x", hexHash, true},
		{hexHash, "", hexHash, true},
		{"main@sha256:" + hexHash, "", "", false},
		{"main@sha1:xyz", "", "", false},
		{"main", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		name, hash, ok := SplitRevision(tt.rev)
		if name != tt.name || hash != tt.hash || ok != tt.ok {
			t.Errorf("SplitRevision(%q) = %q, %q, %v; want %q, %q, %v", tt.rev, name, hash, ok, tt.name, tt.hash, tt.ok)
		}
	}
}

// FuzzSplitRevision: revisions come from object status written by anyone
// with access to the API. A successful split must round-trip.
func FuzzSplitRevision(f *testing.F) {
	for _, s := range []string{"main@sha1:" + hexHash, "sha1:" + hexHash, "a/b/" + hexHash, "@", "@sha1:", "x@y@sha1:abcd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		name, hash, ok := SplitRevision(rev)
		if !ok {
			return
		}
		if !isHex(hash) {
			t.Fatalf("SplitRevision(%q) returned non-hex hash %q", rev, hash)
		}
		if strings.Contains(rev, "@") || strings.HasPrefix(rev, "sha1:") {
			if Revision(name, hash) != rev {
				t.Fatalf("round trip of %q gave %q", rev, Revision(name, hash))
			}
		}
	})
}

// FuzzPlanFor checks that any checkout reference maps to a fetch plan with valid refspecs, or
// to an error, never a panic.
func FuzzPlanFor(f *testing.F) {
	f.Add("main", "", "", "", "", "")
	f.Add("", "v1.0.0", "", "", "", "")
	f.Add("", "", ">=1.0.0", "", "", "v1.2.0")
	f.Add("", "", "", "refs/pull/1/head", "", "")
	f.Add("feature", "", "", "", "0123456789abcdef0123456789abcdef01234567", "")
	f.Fuzz(func(t *testing.T, branch, tag, semver, name, commit, semverTag string) {
		plan, err := planFor(CheckoutRef{Branch: branch, Tag: tag, SemVer: semver, Name: name, Commit: commit}, semverTag)
		if err != nil {
			return
		}
		for _, spec := range plan.refspecs {
			if err := spec.Validate(); err != nil {
				t.Errorf("refspec %q for %+v: %v", spec, CheckoutRef{Branch: branch, Tag: tag, SemVer: semver, Name: name, Commit: commit}, err)
			}
		}
	})
}
