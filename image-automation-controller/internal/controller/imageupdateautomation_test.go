package controller

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/git"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const podinfoImage = "ghcr.io/stefanprodan/podinfo"

// TestAutomationCommitsAndPushes runs the usual setup over HTTP with basic auth: an image
// change becomes one signed commit on the checkout branch, changing only the marked value;
// a later change is pushed without any request; and a run with nothing to do pushes nothing.
func TestAutomationCommitsAndPushes(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := gitserver.New(t, gitserver.Options{Username: "flux", Password: "git-s3cret-pass"})
	initial := seed(t, s.Repos, "fleet", ns)
	newSecret(t, ns, "git-auth", map[string][]byte{"username": []byte("flux"), "password": []byte("git-s3cret-pass")})
	newGitRepository(t, ns, "fleet", s.RepoURL("fleet"), "git-auth")
	priv, pub := openPGPKey(t)
	newSecret(t, ns, "signing", map[string][]byte{"git.asc": priv})
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	a := newAutomation(t, ns, "fleet", "fleet", func(a *imagev1.ImageUpdateAutomation) {
		a.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "signing"}}
		a.Spec.GitSpec.Commit.MessageTemplate = "Update {{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }}{{ end }}"
	})
	a = waitFor(t, a, time.Minute, pushed(""))
	first := a.Status.LastPushCommit
	if head, _ := s.Resolve("fleet", "main"); head != first {
		t.Fatalf("main = %s, lastPushCommit = %s", head, first)
	}
	bare := s.Path("fleet")
	if parent := gitOut(t, bare, "rev-parse", first+"^"); parent != initial {
		t.Errorf("parent = %s, want %s", parent, initial)
	}
	want := strings.Replace(fmt.Sprintf(deployment, ns), "podinfo:6.3.0", "podinfo:6.5.0", 1)
	if got := gitOut(t, bare, "show", "main:apps/podinfo.yaml") + "\n"; got != want {
		t.Errorf("file after the update:\n%s\nwant (only the value changed):\n%s", got, want)
	}
	if msg := gitOut(t, bare, "log", "-1", "--format=%B", first); msg != "Update "+podinfoImage+":6.3.0 -> "+podinfoImage+":6.5.0" {
		t.Errorf("commit message = %q", msg)
	}
	auth, _ := git.NewAuthOptions(mustURL(t, s.RepoURL("fleet")), map[string][]byte{"username": []byte("flux"), "password": []byte("git-s3cret-pass")})
	commit, err := git.NewClient(git.ClientOptions{}).Clone(testCtx(t), s.RepoURL("fleet"), t.TempDir(), auth, git.CheckoutRef{Branch: "main"}, git.CloneOptions{ShallowIfPossible: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := git.VerifyOpenPGP(commit.Signature, commit.Encoded, string(pub)); err != nil {
		t.Errorf("the pushed commit's signature does not verify: %v", err)
	}
	st := a.Status
	if st.ObservedSourceRevision != "main@sha1:"+first || st.LastPushTime == nil || st.LastAutomationRunTime == nil ||
		!maps.Equal(st.ObservedPolicies, imagev1.ObservedPolicies{"podinfo": {Name: podinfoImage, Tag: "6.5.0"}}) {
		t.Errorf("status = %+v", st)
	}
	md := waitEvent(t, ns, "fleet", meta.SucceededReason, "pushed commit '"+first[:7]+"' to branch 'main'\nUpdate ")
	if md[imagev1.GroupVersion.Group+"/revision"] != "main@sha1:"+first {
		t.Errorf("event metadata = %v", md)
	}

	// The policy moves: pushed at once, without waiting for the interval.
	setPolicy(t, ns, "podinfo", podinfoImage, "6.6.0", nil)
	a = waitFor(t, a, 30*time.Second, pushed(first))
	second := a.Status.LastPushCommit
	if got := gitOut(t, bare, "show", "main:apps/podinfo.yaml"); !strings.Contains(got, "podinfo:6.6.0") {
		t.Errorf("second update missing: %s", got)
	}

	// A reconcile with nothing changed (here the GitRepository's spec changed) ends after one
	// ref listing, without a clone or a push. The server's request counts tell the runs apart:
	// Ready's message alone may be that of an earlier or later run (see pushed).
	var src sourcev1.GitRepository
	if err := k8s().Get(testCtx(t), objKey(ns, "fleet"), &src); err != nil {
		t.Fatal(err)
	}
	before := s.Requests()
	src.Spec.Interval = metav1.Duration{Duration: 2 * time.Hour}
	if err := k8s().Update(testCtx(t), &src); err != nil {
		t.Fatal(err)
	}
	a = waitFor(t, a, 30*time.Second, func(a *imagev1.ImageUpdateAutomation) error {
		if s.Requests().InfoRefs == before.InfoRefs {
			return fmt.Errorf("no ref listing since the GitRepository changed")
		}
		return readyIs(metav1.ConditionTrue, meta.SucceededReason, unchangedMessage)(a)
	})
	if got := s.Requests(); got.UploadPack != before.UploadPack || got.ReceivePack != before.ReceivePack {
		t.Errorf("a run with nothing changed cloned or pushed: requests %+v, before %+v", got, before)
	}
	// A requested run clones and finds nothing to change: no commit either.
	before = s.Requests()
	token := requestReconcile(t, a)
	a = waitFor(t, a, 30*time.Second, func(a *imagev1.ImageUpdateAutomation) error {
		if a.Status.LastHandledReconcileAt != token {
			return fmt.Errorf("request not handled")
		}
		return readyAfterRun(a)
	})
	if got := s.Requests(); got.UploadPack == before.UploadPack || got.ReceivePack != before.ReceivePack {
		t.Errorf("the requested run did not clone, or pushed: requests %+v, before %+v", got, before)
	}
	if head, _ := s.Resolve("fleet", "main"); head != second || a.Status.LastPushCommit != second {
		t.Errorf("main = %s, lastPushCommit %s; want no new commit after %s", head, a.Status.LastPushCommit, second)
	}
}

// TestAutomationPushBranchOverSSH is the pull-request flow over SSH: commits go to a separate
// branch, signed with an SSH key; main never moves; when main moves on, the push branch is
// rebuilt from it (GitForcePushBranch, on by default).
func TestAutomationPushBranchOverSSH(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := gitserver.NewSSH(t, gitserver.SSHOptions{})
	initial := seed(t, s.Repos, "fleet", ns)
	newSecret(t, ns, "ssh-auth", map[string][]byte{"identity": s.ClientKey(), "known_hosts": s.KnownHosts()})
	newGitRepository(t, ns, "fleet", s.RepoURL("fleet"), "ssh-auth")
	key, err := gitserver.NewSSHSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	newSecret(t, ns, "ssh-signing", map[string][]byte{"identity": key.PrivateKeyPEM()})
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	a := waitFor(t, newAutomation(t, ns, "fleet", "fleet", func(a *imagev1.ImageUpdateAutomation) {
		a.Spec.GitSpec.Push = &imagev1.PushSpec{Branch: "image-updates"}
		a.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{Type: imagev1.SigningKeyTypeSSH, SecretRef: meta.LocalObjectReference{Name: "ssh-signing"}}
	}), time.Minute, pushed(""))
	bare := s.Path("fleet")
	if head, _ := s.Resolve("fleet", "main"); head != initial {
		t.Fatalf("main moved to %s", head)
	}
	if head, _ := s.Resolve("fleet", "image-updates"); head != a.Status.LastPushCommit {
		t.Fatalf("image-updates = %s, lastPushCommit %s", head, a.Status.LastPushCommit)
	}
	if parent := gitOut(t, bare, "rev-parse", "image-updates^"); parent != initial {
		t.Errorf("push branch parent = %s, want main %s", parent, initial)
	}
	if a.Status.ObservedSourceRevision != "main@sha1:"+initial {
		t.Errorf("observedSourceRevision = %s", a.Status.ObservedSourceRevision)
	}
	auth, _ := git.NewAuthOptions(mustURL(t, s.RepoURL("fleet")), map[string][]byte{"identity": s.ClientKey(), "known_hosts": s.KnownHosts()})
	commit, err := git.NewClient(git.ClientOptions{}).Clone(testCtx(t), s.RepoURL("fleet"), t.TempDir(), auth, git.CheckoutRef{Branch: "image-updates"}, git.CloneOptions{ShallowIfPossible: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := git.VerifySSH(commit.Signature, commit.Encoded, key.AuthorizedKey()); err != nil {
		t.Errorf("the pushed commit's SSH signature does not verify: %v", err)
	}

	// main moves on (as a merged pull request would) and the policy too: the push branch is
	// rebuilt on the new main.
	mainNow := s.Commit("fleet").Branch("main").File("NEWS.md", "merged\n").MustDo(t)
	setPolicy(t, ns, "podinfo", podinfoImage, "6.6.0", nil)
	// A run may see main move before the policy does and rebuild the branch with 6.5.0 first:
	// wait for the push of 6.6.0.
	last := a.Status.LastPushCommit
	a = waitFor(t, a, 30*time.Second, func(a *imagev1.ImageUpdateAutomation) error {
		if got := a.Status.ObservedPolicies["podinfo"].Tag; got != "6.6.0" {
			return fmt.Errorf("observed podinfo tag %q", got)
		}
		return pushed(last)(a)
	})
	if got := gitOut(t, bare, "show", "image-updates:apps/podinfo.yaml"); !strings.Contains(got, "podinfo:6.6.0") {
		t.Errorf("the push branch lacks the new image: %s", got)
	}
	if parent := gitOut(t, bare, "rev-parse", "image-updates^"); parent != mainNow {
		t.Errorf("rebuilt push branch parent = %s, want %s", parent, mainNow)
	}
	if a.Status.ObservedSourceRevision != "main@sha1:"+mainNow {
		t.Errorf("observedSourceRevision = %s", a.Status.ObservedSourceRevision)
	}
}
