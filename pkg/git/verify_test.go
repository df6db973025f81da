package git

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/gitserver"
)

type signers struct {
	pgp, otherPGP       *gitserver.OpenPGPKey
	ssh, otherSSH       *gitserver.SSHSigningKey
	pgpPub, otherPGPPub string
}

func newSigners(t *testing.T) signers {
	t.Helper()
	var s signers
	var err error
	if s.pgp, err = gitserver.NewOpenPGPKey("Flux", "flux@example.com"); err != nil {
		t.Fatal(err)
	}
	if s.otherPGP, err = gitserver.NewOpenPGPKey("Eve", "eve@example.com"); err != nil {
		t.Fatal(err)
	}
	if s.ssh, err = gitserver.NewSSHSigningKey(); err != nil {
		t.Fatal(err)
	}
	if s.otherSSH, err = gitserver.NewSSHSigningKey(); err != nil {
		t.Fatal(err)
	}
	if s.pgpPub, err = s.pgp.PublicKeyArmored(); err != nil {
		t.Fatal(err)
	}
	if s.otherPGPPub, err = s.otherPGP.PublicKeyArmored(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifySignatures(t *testing.T) {
	t.Parallel()
	k := newSigners(t)
	srv := gitserver.New(t, gitserver.Options{})
	url, _ := srv.InitRepo("app")
	commit := func(branch string, signer gitserver.Signer) string {
		b := srv.Commit("app").Branch(branch).File("f", branch)
		if signer != nil {
			b = b.Sign(signer)
		}
		return b.MustDo(t)
	}
	tag := func(name, target string, signer gitserver.Signer) {
		if _, err := srv.AnnotatedTag("app", name, target, gitserver.TagOptions{Signer: signer, Message: "tag " + name}); err != nil {
			t.Fatal(err)
		}
	}
	pgpCommit := commit("pgp", k.pgp)
	sshCommit := commit("ssh", k.ssh)
	unsigned := commit("unsigned", nil)
	tag("pgp-tag", pgpCommit, k.pgp)
	tag("ssh-tag", sshCommit, k.ssh)
	tag("unsigned-tag", pgpCommit, nil)
	tag("mixed-tag", unsigned, k.ssh)
	tag("v1.0.0", pgpCommit, k.pgp)
	if err := srv.LightweightTag("app", "light", pgpCommit); err != nil {
		t.Fatal(err)
	}

	trusted := VerificationKeys{OpenPGP: []string{k.otherPGPPub, k.pgpPub}, SSH: [][]byte{append(k.otherSSH.AuthorizedKey(), k.ssh.AuthorizedKey()...)}}
	untrusted := VerificationKeys{OpenPGP: []string{k.otherPGPPub}, SSH: [][]byte{k.otherSSH.AuthorizedKey()}}

	tests := []struct {
		name       string
		ref        CheckoutRef
		mode       VerificationMode
		keys       VerificationKeys
		wantCommit string
		wantTag    string
		wantErr    string
	}{
		{name: "openpgp commit", ref: CheckoutRef{Branch: "pgp"}, mode: VerifyHEAD, keys: trusted, wantCommit: k.pgp.KeyID()},
		{name: "ssh commit", ref: CheckoutRef{Branch: "ssh"}, mode: VerifyHEAD, keys: trusted, wantCommit: k.ssh.Fingerprint()},
		{name: "default mode is HEAD", ref: CheckoutRef{Branch: "ssh"}, keys: trusted, wantCommit: k.ssh.Fingerprint()},
		{name: "unsigned commit", ref: CheckoutRef{Branch: "unsigned"}, mode: VerifyHEAD, keys: trusted, wantErr: "commit " + unsigned + " is not signed"},
		{name: "openpgp commit, wrong key", ref: CheckoutRef{Branch: "pgp"}, mode: VerifyHEAD, keys: untrusted, wantErr: "unable to verify signature of commit " + pgpCommit},
		{name: "ssh commit, wrong key", ref: CheckoutRef{Branch: "ssh"}, mode: VerifyHEAD, keys: untrusted, wantErr: "not among the 1 trusted key(s)"},
		{name: "openpgp commit, only ssh keys", ref: CheckoutRef{Branch: "pgp"}, mode: VerifyHEAD, keys: VerificationKeys{SSH: trusted.SSH}, wantErr: "no OpenPGP keys"},
		{name: "openpgp tag", ref: CheckoutRef{Tag: "pgp-tag"}, mode: VerifyTag, keys: trusted, wantTag: k.pgp.KeyID()},
		{name: "ssh tag and head", ref: CheckoutRef{Tag: "ssh-tag"}, mode: VerifyTagAndHEAD, keys: trusted, wantTag: k.ssh.Fingerprint(), wantCommit: k.ssh.Fingerprint()},
		{name: "tag via semver", ref: CheckoutRef{SemVer: "1.x"}, mode: VerifyTag, keys: trusted, wantTag: k.pgp.KeyID()},
		{name: "tag via name", ref: CheckoutRef{Name: "refs/tags/pgp-tag"}, mode: VerifyTagAndHEAD, keys: trusted, wantTag: k.pgp.KeyID(), wantCommit: k.pgp.KeyID()},
		{name: "unsigned tag", ref: CheckoutRef{Tag: "unsigned-tag"}, mode: VerifyTag, keys: trusted, wantErr: "tag unsigned-tag"},
		{name: "signed tag on unsigned commit, tag only", ref: CheckoutRef{Tag: "mixed-tag"}, mode: VerifyTag, keys: trusted, wantTag: k.ssh.Fingerprint()},
		{name: "signed tag on unsigned commit, both", ref: CheckoutRef{Tag: "mixed-tag"}, mode: VerifyTagAndHEAD, keys: trusted, wantErr: "is not signed"},
		{name: "tag mode on a lightweight tag", ref: CheckoutRef{Tag: "light"}, mode: VerifyTag, keys: trusted, wantErr: "needs an annotated tag"},
		{name: "tag mode on a branch", ref: CheckoutRef{Branch: "pgp"}, mode: VerifyTag, keys: trusted, wantErr: "needs an annotated tag"},
		{name: "unknown mode", ref: CheckoutRef{Branch: "pgp"}, mode: "Everything", keys: trusted, wantErr: "unknown verification mode"},
	}
	c := NewClient(ClientOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			commit, err := c.Clone(context.Background(), url, t.TempDir(), nil, tt.ref, CloneOptions{ShallowIfPossible: true})
			if err != nil {
				t.Fatal(err)
			}
			v, err := VerifyCommit(commit, tt.mode, tt.keys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.CommitKey != tt.wantCommit || v.TagKey != tt.wantTag {
				t.Fatalf("verified commit=%q tag=%q, want %q %q", v.CommitKey, v.TagKey, tt.wantCommit, tt.wantTag)
			}
			if !strings.HasPrefix(v.String(), "verified signature of ") {
				t.Errorf("String = %q", v)
			}
		})
	}
}

func TestVerifyTamperedPayload(t *testing.T) {
	k := newSigners(t)
	for _, s := range []gitserver.Signer{k.pgp, k.ssh} {
		payload := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n\nmsg\n")
		sig, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		keys := VerificationKeys{OpenPGP: []string{k.pgpPub}, SSH: [][]byte{k.ssh.AuthorizedKey()}}
		c := &Commit{Hash: "abc", Signature: sig, Encoded: payload}
		if _, err := c.Verify(keys); err != nil {
			t.Fatalf("genuine payload: %v", err)
		}
		c.Encoded = append([]byte{}, payload...)
		c.Encoded[len(c.Encoded)-2] = 'X'
		if _, err := c.Verify(keys); err == nil {
			t.Fatalf("tampered payload verified (%T)", s)
		}
	}
}

// TestVerifyGitCLISSHSignature checks a signature made by git itself
// (gpg.format=ssh, via ssh-keygen), not by our own test signer.
func TestVerifyGitCLISSHSignature(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatal("ssh-keygen not found: install openssh-client (make test-deps)")
	}
	k := newSigners(t)
	srv := gitserver.New(t, gitserver.Options{})
	url, _ := srv.InitRepo("app")
	srv.Commit("app").File("a", "a").MustDo(t)

	work := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "signing_key")
	must(t, os.WriteFile(keyFile, k.ssh.PrivateKeyPEM(), 0o600))
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=cli", "GIT_AUTHOR_EMAIL=cli@example.com", "GIT_COMMITTER_NAME=cli", "GIT_COMMITTER_EMAIL=cli@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("clone", "-q", url, ".")
	must(t, os.WriteFile(filepath.Join(work, "b"), []byte("b"), 0o644))
	git("add", "-A")
	git("-c", "gpg.format=ssh", "-c", "user.signingkey="+keyFile, "commit", "-q", "-S", "-m", "signed by git")
	git("-c", "gpg.format=ssh", "-c", "user.signingkey="+keyFile, "tag", "-s", "-m", "cli tag", "v1.0.0")
	git("push", "-q", "origin", "HEAD:main", "v1.0.0")

	commit, err := NewClient(ClientOptions{}).Clone(context.Background(), url, t.TempDir(), nil, CheckoutRef{Tag: "v1.0.0"}, CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyCommit(commit, VerifyTagAndHEAD, VerificationKeys{SSH: [][]byte{k.ssh.AuthorizedKey()}})
	if err != nil {
		t.Fatal(err)
	}
	if v.CommitKey != k.ssh.Fingerprint() || v.TagKey != k.ssh.Fingerprint() {
		t.Fatalf("verification = %+v", v)
	}
}

func TestKeysFromSecret(t *testing.T) {
	k := newSigners(t)
	keys, err := KeysFromSecret(map[string][]byte{
		"flux.asc":   []byte(k.pgpPub),
		"ssh.pub":    k.ssh.AuthorizedKey(),
		"author.asc": []byte(k.otherPGPPub),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.OpenPGP) != 2 || len(keys.SSH) != 1 {
		t.Fatalf("keys = %d OpenPGP, %d SSH", len(keys.OpenPGP), len(keys.SSH))
	}
	if _, err := KeysFromSecret(map[string][]byte{"junk": []byte("hello")}); err == nil || !strings.Contains(err.Error(), `"junk"`) {
		t.Fatalf("junk key: %v", err)
	}
	if _, err := KeysFromSecret(nil); err == nil {
		t.Fatal("empty secret accepted")
	}
	if _, err := VerifyOpenPGP("sig", nil, "not a key ring"); err == nil {
		t.Fatal("garbage key ring accepted")
	}
	if _, err := VerifySSH("not a signature", nil, k.ssh.AuthorizedKey()); err == nil {
		t.Fatal("garbage SSH signature accepted")
	}
}
