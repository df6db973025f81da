package v1

import (
	"github.com/fluxcd/pkg/apis/meta"
)

// Signing key formats accepted in SigningKey.Type.
const (
	// SigningKeyTypeGPG expects an ASCII-armored OpenPGP key pair; it is
	// what an empty type means.
	SigningKeyTypeGPG string = "gpg"
	// SigningKeyTypeSSH expects an SSH private key.
	SigningKeyTypeSSH string = "ssh"
)

// GitSpec says how to check out, commit to and push to the Git repository.
type GitSpec struct {
	// Checkout selects what to clone. When unset, the spec.ref of the
	// referenced GitRepository (or its default branch) is used.
	// +optional
	Checkout *GitCheckoutSpec `json:"checkout,omitempty"`

	// Commit says how to author the commits the automation makes.
	// +required
	Commit CommitSpec `json:"commit"`

	// Push says where to push the commits. When unset, they are pushed back
	// to the branch that was checked out.
	// +optional
	Push *PushSpec `json:"push,omitempty"`
}

// GitCheckoutSpec selects the Git reference to clone before updating.
type GitCheckoutSpec struct {
	// Reference is the branch, tag or commit to clone.
	// +required
	Reference GitRepositoryRef `json:"ref"`
}

// GitRepositoryRef points at a Git reference. When several fields are set,
// Commit wins over Name, Name over SemVer, SemVer over Tag and Tag over
// Branch.
type GitRepositoryRef struct {
	// Branch to check out; `master` when no other field is set.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer is a version range; the highest matching tag is checked out.
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Name is a full Git reference such as `refs/heads/main`,
	// `refs/tags/v1.0.0` or `refs/pull/42/head`.
	// +optional
	Name string `json:"name,omitempty"`

	// Commit is a commit SHA to check out. Together with Branch, the branch
	// is cloned shallowly and the commit must be on it.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// CommitSpec describes the commits the automation creates.
type CommitSpec struct {
	// Author is the identity recorded as author (and committer).
	// +required
	Author CommitUser `json:"author"`

	// SigningKey, when set, signs each commit with the referenced OpenPGP
	// or SSH key.
	// +optional
	SigningKey *SigningKey `json:"signingKey,omitempty"`

	// MessageTemplate is a Go text/template for the commit message; the
	// details of the change (e.g. `.Changed`) are available to it. The
	// former `.Updated` field no longer exists.
	// +optional
	MessageTemplate string `json:"messageTemplate,omitempty"`

	// MessageTemplateValues are extra key/value pairs made available to
	// MessageTemplate (as `.Values`).
	// +optional
	MessageTemplateValues map[string]string `json:"messageTemplateValues,omitempty"`
}

// CommitUser is the name and email of a commit author.
type CommitUser struct {
	// Name is the author name; empty when unset.
	// +optional
	Name string `json:"name,omitempty"`

	// Email is the author email address.
	// +required
	Email string `json:"email"`
}

// SigningKey references the key used to sign commits.
type SigningKey struct {
	// SecretRef names a Secret in the automation's namespace. For `gpg`
	// it holds `git.asc` (an ASCII-armored OpenPGP key pair) and optionally
	// `passphrase`; for `ssh` it holds `identity` (a private key, e.g. as
	// written by ssh-keygen; ed25519, ECDSA P-256/384/521 or RSA of at least
	// 2048 bits) and optionally `password`. The SSH layout is the same as a
	// GitRepository SSH auth Secret, so one Secret can serve both.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`

	// Type is the key format, `gpg` or `ssh`. Empty means `gpg`.
	// +kubebuilder:validation:Enum=gpg;ssh
	// +optional
	Type string `json:"type,omitempty"`
}

// PushSpec says where commits are pushed.
type PushSpec struct {
	// Branch is the branch to push to. It is created from the checked-out
	// branch when it does not exist yet.
	// +optional
	Branch string `json:"branch,omitempty"`

	// Refspec is a Git refspec to push with (e.g.
	// `refs/heads/main:refs/heads/auto`). When Branch is also set, the
	// commit is pushed to both.
	// +optional
	Refspec string `json:"refspec,omitempty"`

	// Options are push options (`git push -o key=value`) sent to the Git
	// server with the push.
	// +optional
	Options map[string]string `json:"options,omitempty"`
}
