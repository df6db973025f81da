package git

import (
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// newCommit converts a go-git commit, keeping the exact signed payload.
func newCommit(c *object.Commit, reference, revName string, tag *Tag) (*Commit, error) {
	payload, err := unsignedPayload(c)
	if err != nil {
		return nil, err
	}
	return &Commit{
		Hash:           c.Hash.String(),
		Reference:      reference,
		RevisionName:   revName,
		Author:         signature(c.Author),
		Committer:      signature(c.Committer),
		Message:        c.Message,
		Signature:      c.PGPSignature,
		Encoded:        payload,
		ReferencingTag: tag,
	}, nil
}

func newTag(t *object.Tag) (*Tag, error) {
	payload, err := unsignedPayload(t)
	if err != nil {
		return nil, err
	}
	return &Tag{
		Name:      t.Name,
		Hash:      t.Hash.String(),
		Tagger:    signature(t.Tagger),
		Message:   t.Message,
		Signature: t.PGPSignature,
		Encoded:   payload,
	}, nil
}

func signature(s object.Signature) Signature {
	return Signature{Name: s.Name, Email: s.Email, When: s.When}
}

// unsignedPayload is the object encoded without its signature: the bytes
// git signs (and verifies) for commits and tags.
func unsignedPayload(o interface {
	EncodeWithoutSignature(plumbing.EncodedObject) error
}) ([]byte, error) {
	mem := &plumbing.MemoryObject{}
	if err := o.EncodeWithoutSignature(mem); err != nil {
		return nil, err
	}
	r, err := mem.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
