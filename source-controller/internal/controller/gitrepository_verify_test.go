package controller

import (
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryVerify checks spec.verify with OpenPGP and SSH signing keys in the modes
// HEAD, Tag and TagAndHEAD: a good signature gives SourceVerified=True, an unsigned or wrongly
// signed commit or tag gives SourceVerified=False and no artifact.
func TestGitRepositoryVerify(t *testing.T) {
	t.Parallel()
	trusted, err := gitserver.NewOpenPGPKey("Trusted", "trusted@example.com")
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := gitserver.NewOpenPGPKey("Mallory", "mallory@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sshKey, err := gitserver.NewSSHSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	armored, err := trusted.PublicKeyArmored()
	if err != nil {
		t.Fatal(err)
	}

	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("f", "base").Sign(trusted).MustDo(t)
	commit := func(branch string, signer gitserver.Signer) string {
		b := srv.Commit("app").Branch(branch).Parent("main").File("f", branch)
		if signer != nil {
			b.Sign(signer)
		}
		return b.MustDo(t)
	}
	tag := func(name, target string, signer gitserver.Signer) {
		if _, err := srv.AnnotatedTag("app", name, target, gitserver.TagOptions{Signer: signer}); err != nil {
			t.Fatal(err)
		}
	}
	pgpSigned := commit("pgp-signed", trusted)
	commit("ssh-signed", sshKey)
	unsigned := commit("unsigned", nil)
	commit("wrong-key", untrusted)
	tag("v1.0.0-signed-tag", unsigned, trusted)
	tag("v1.1.0-both-signed", pgpSigned, sshKey)
	tag("v1.2.0-unsigned-tag", pgpSigned, nil)
	tag("v1.3.0-tag-signed-commit-not", unsigned, trusted)

	ns := newNamespace(t)
	createSecret(t, ns, "keys", "", map[string][]byte{
		"author.asc": []byte(armored),
		"ssh.pub":    sshKey.AuthorizedKey(),
	})
	for _, tc := range []struct {
		name    string
		ref     sourcev1.GitRepositoryRef
		mode    sourcev1.GitVerificationMode
		wantKey []string // verified: the keys named in the SourceVerified message
		wantErr []string // not verified: fragments of the SourceVerified=False message
	}{
		{name: "head-openpgp", ref: sourcev1.GitRepositoryRef{Branch: "pgp-signed"}, mode: sourcev1.ModeGitHEAD, wantKey: []string{trusted.KeyID()}},
		{name: "head-ssh", ref: sourcev1.GitRepositoryRef{Branch: "ssh-signed"}, mode: sourcev1.ModeGitHEAD, wantKey: []string{sshKey.Fingerprint()}},
		{name: "head-default-mode", ref: sourcev1.GitRepositoryRef{Branch: "pgp-signed"}, wantKey: []string{trusted.KeyID()}},
		{name: "tag", ref: sourcev1.GitRepositoryRef{Tag: "v1.0.0-signed-tag"}, mode: sourcev1.ModeGitTag, wantKey: []string{trusted.KeyID()}},
		{name: "tag-and-head", ref: sourcev1.GitRepositoryRef{Tag: "v1.1.0-both-signed"}, mode: sourcev1.ModeGitTagAndHEAD, wantKey: []string{sshKey.Fingerprint(), trusted.KeyID()}},
		{name: "head-unsigned", ref: sourcev1.GitRepositoryRef{Branch: "unsigned"}, mode: sourcev1.ModeGitHEAD, wantErr: []string{unsigned, "not signed"}},
		{name: "head-wrong-key", ref: sourcev1.GitRepositoryRef{Branch: "wrong-key"}, mode: sourcev1.ModeGitHEAD, wantErr: []string{"signature"}},
		{name: "tag-unsigned", ref: sourcev1.GitRepositoryRef{Tag: "v1.2.0-unsigned-tag"}, mode: sourcev1.ModeGitTag, wantErr: []string{"v1.2.0-unsigned-tag", "not signed"}},
		{name: "tag-mode-on-branch", ref: sourcev1.GitRepositoryRef{Branch: "pgp-signed"}, mode: sourcev1.ModeGitTag, wantErr: []string{"tag"}},
		{name: "tag-and-head-commit-unsigned", ref: sourcev1.GitRepositoryRef{Tag: "v1.3.0-tag-signed-commit-not"}, mode: sourcev1.ModeGitTagAndHEAD, wantErr: []string{unsigned, "not signed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, url, func(o *sourcev1.GitRepository) {
				o.Spec.Reference = &tc.ref
				o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: tc.mode, SecretRef: meta.LocalObjectReference{Name: "keys"}}
			})
			create(t, obj)
			if tc.wantErr == nil {
				waitReady(t, obj)
				wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, tc.wantKey...)
				want := tc.mode
				if want == "" {
					want = sourcev1.ModeGitHEAD
				}
				if m := obj.Status.SourceVerificationMode; m == nil || *m != want {
					t.Errorf("sourceVerificationMode = %v, want %s", m, want)
				}
				return
			}
			waitNotReady(t, obj, verificationErrorReason)
			wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, verificationErrorReason, tc.wantErr...)
			if obj.Status.Artifact != nil {
				t.Errorf("artifact %s stored although verification failed", obj.Status.Artifact.Revision)
			}
			if obj.Status.SourceVerificationMode != nil {
				t.Errorf("sourceVerificationMode = %s after a failed verification", *obj.Status.SourceVerificationMode)
			}
		})
	}

	// A verified artifact exists; then an unsigned commit lands: it is not let through, the
	// old artifact stays, and ArtifactOutdated tells why the revision did not move.
	t.Run("unsigned-commit-after-verified", func(t *testing.T) {
		t.Parallel()
		good := commit("moving", trusted)
		obj := newGitRepository(ns, "moving", url, func(o *sourcev1.GitRepository) {
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "moving"}
			o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitHEAD, SecretRef: meta.LocalObjectReference{Name: "keys"}}
		})
		create(t, obj)
		waitRevision(t, obj, "moving@sha1:"+good)
		stored := obj.Status.Artifact.DeepCopy()
		bad := srv.Commit("app").Branch("moving").File("f", "evil").Sign(untrusted).MustDo(t)
		requestReconcile(t, obj)
		waitNotReady(t, obj, verificationErrorReason)
		wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, verificationErrorReason, bad)
		wantCondition(t, obj, sourcev1.ArtifactOutdatedCondition, metav1.ConditionTrue, sourcev1.NewRevisionReason, bad)
		wantCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
		if obj.Status.Artifact == nil || obj.Status.Artifact.Digest != stored.Digest || obj.Status.Artifact.Revision != stored.Revision {
			t.Fatalf("artifact = %+v, want the verified one %+v", obj.Status.Artifact, stored)
		}
		wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"f": "moving"})
		if n := newArtifactEvents(sourcev1.GitRepositoryKind, ns, "moving"); n != 1 {
			t.Errorf("%d NewArtifact events, want 1 (the verified commit only)", n)
		}
		// Signed again: it flows.
		fixed := srv.Commit("app").Branch("moving").File("f", "fixed").Sign(sshKey).MustDo(t)
		requestReconcile(t, obj)
		waitRevision(t, obj, "moving@sha1:"+fixed)
		wantCondition(t, obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, meta.SucceededReason, sshKey.Fingerprint())
		wantNoCondition(t, obj, sourcev1.ArtifactOutdatedCondition)
	})
}
