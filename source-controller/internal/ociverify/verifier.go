package ociverify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Target is the artifact to verify: a manifest digest in a repository, reached with the
// object's registry credentials and transport.
type Target struct {
	Repo   name.Repository
	Digest string
	Remote []remote.Option
}

func (t Target) String() string { return t.Repo.String() + "@" + t.Digest }

// Verifier checks that a trusted signer signed an artifact. Verify returns who signed it (a
// key entry, a certificate identity) for the condition message.
type Verifier interface {
	Verify(ctx context.Context, t Target) (string, error)
}

// ErrNoSignature means the artifact carries no signature of the verifier's kind at all.
var ErrNoSignature = errors.New("no signature found")

// failures collects why each signature found was refused, for one error.
type failures struct {
	found int
	why   []string
}

func (f *failures) add(format string, args ...any) {
	f.found++
	if len(f.why) < 5 { // enough to explain; a flood of signatures must not make a huge condition
		f.why = append(f.why, fmt.Sprintf(format, args...))
	}
}

func (f *failures) err(t Target, what string) error {
	if f.found == 0 {
		return fmt.Errorf("%s: %w for %s", what, ErrNoSignature, t)
	}
	return fmt.Errorf("%s: none of the %d signature(s) of %s verified: %s", what, f.found, t, strings.Join(f.why, "; "))
}
