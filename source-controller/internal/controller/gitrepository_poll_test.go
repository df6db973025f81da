package controller

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryUnchangedRemote polls a repository whose branch does not move: every
// interval must cost one ref listing and nothing else (no clone, no status write, no new
// artifact, no event); a reconcile request likewise; and a new commit must still flow.
func TestGitRepositoryUnchangedRemote(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	first := srv.Commit("app").File("app.yaml", "v1").MustDo(t)
	ns := newNamespace(t)
	obj := newGitRepository(ns, "poll", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
	})
	create(t, obj)
	waitRevision(t, obj, "main@sha1:"+first)
	stored := obj.Status.Artifact.DeepCopy()
	eventually(t, "the first NewArtifact event", func() bool { return newArtifactEvents(sourcev1.GitRepositoryKind, ns, "poll") == 1 })

	// Let the post-Ready patch settle, then measure a quiet period of several intervals.
	time.Sleep(300 * time.Millisecond)
	before, writes, reads := srv.Requests(), suiteEnv.client.statusWrites(obj), suiteEnv.client.reads(obj)
	time.Sleep(1500 * time.Millisecond)
	after := srv.Requests()
	polls := suiteEnv.client.reads(obj) - reads
	if polls < 2 {
		t.Fatalf("only %d reconciles in 1.5s with a 200ms interval: the object is not polled", polls)
	}
	if got := after.InfoRefs - before.InfoRefs; got < int64(polls)-1 || got > int64(polls)+1 {
		t.Errorf("%d ref listings for %d reconciles, want one each", got, polls)
	}
	if after.UploadPack != before.UploadPack {
		t.Errorf("%d fetches while the branch did not move, want none", after.UploadPack-before.UploadPack)
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 0 {
		t.Errorf("%d status writes while nothing changed, want none", got)
	}
	get(t, obj)
	if !equality.Semantic.DeepEqual(obj.Status.Artifact, stored) {
		t.Errorf("artifact changed without a new revision:\n got %+v\nwant %+v", obj.Status.Artifact, stored)
	}

	// A reconcile request records lastHandledReconcileAt (one status write) and clones nothing.
	before, writes = srv.Requests(), suiteEnv.client.statusWrites(obj)
	token := requestReconcile(t, obj)
	waitFor(t, obj, "request "+token+" handled", func(o *sourcev1.GitRepository) bool {
		return o.Status.LastHandledReconcileAt == token
	})
	if srv.Requests().UploadPack != before.UploadPack {
		t.Error("a reconcile request of an unchanged branch cloned it")
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 1 {
		t.Errorf("%d status writes for a reconcile request, want 1", got)
	}
	if obj.Status.Artifact.Digest != stored.Digest || !obj.Status.Artifact.LastUpdateTime.Equal(&stored.LastUpdateTime) {
		t.Error("a reconcile request of an unchanged branch stored a new artifact")
	}
	if n := newArtifactEvents(sourcev1.GitRepositoryKind, ns, "poll"); n != 1 {
		t.Errorf("%d NewArtifact events without a new revision, want 1", n)
	}

	// A new commit is picked up by the next poll.
	second := srv.Commit("app").File("app.yaml", "v2").MustDo(t)
	waitRevision(t, obj, "main@sha1:"+second)
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "v2"})
	eventually(t, "a second NewArtifact event", func() bool { return newArtifactEvents(sourcev1.GitRepositoryKind, ns, "poll") == 2 })
}

// TestGitRepositorySourceOutage stops the Git server: the object turns Ready=False with
// FetchFailed, but the last artifact stays recorded and served intact; once the server is
// back, new commits flow again.
func TestGitRepositorySourceOutage(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	first := srv.Commit("app").File("app.yaml", "before outage").MustDo(t)
	ns := newNamespace(t)
	obj := newGitRepository(ns, "outage", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, obj)
	waitRevision(t, obj, "main@sha1:"+first)
	stored := obj.Status.Artifact.DeepCopy()

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, obj)
	waitNotReady(t, obj, sourcev1.GitOperationFailedReason)
	wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.GitOperationFailedReason, srv.Addr())
	wantCondition(t, obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason)
	wantCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
	wantNoCondition(t, obj, meta.StalledCondition)
	if obj.Status.Artifact == nil || obj.Status.Artifact.Digest != stored.Digest || obj.Status.Artifact.URL != stored.URL {
		t.Fatalf("artifact during the outage = %+v, want the last one %+v", obj.Status.Artifact, stored)
	}
	// Consumers keep getting the last artifact, verified against the recorded digest.
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "before outage"})
	if _, status, err := httpGet(obj.Status.Artifact.URL); err != nil || status != http.StatusOK {
		t.Fatalf("GET %s during the outage: %d %v", obj.Status.Artifact.URL, status, err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	second := srv.Commit("app").File("app.yaml", "after outage").MustDo(t)
	// The failure is retried with backoff; no request is needed.
	waitRevision(t, obj, "main@sha1:"+second)
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "after outage"})
	wantNoCondition(t, obj, sourcev1.FetchFailedCondition)
	wantNoCondition(t, obj, meta.ReconcilingCondition)
}

// TestGitRepositoryPinnedCommitNoClone pins a commit by its short hash, alone and on a
// branch: the revision carries the full hash, and polling needs no clone (and, for the commit
// alone, no request at all).
func TestGitRepositoryPinnedCommitNoClone(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	for _, tc := range []struct {
		name    string
		ref     func(pinned string) sourcev1.GitRepositoryRef
		revName string
	}{
		{"short-commit", func(p string) sourcev1.GitRepositoryRef { return sourcev1.GitRepositoryRef{Commit: p[:10]} }, ""},
		{"short-commit-on-branch", func(p string) sourcev1.GitRepositoryRef {
			return sourcev1.GitRepositoryRef{Branch: "main", Commit: strings.ToUpper(p[:12])}
		}, "main@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := gitserver.New(t, gitserver.Options{})
			url, err := srv.InitRepo("app")
			if err != nil {
				t.Fatal(err)
			}
			pinned := srv.Commit("app").File("app.yaml", "pinned").MustDo(t)
			srv.Commit("app").File("app.yaml", "later").MustDo(t)
			ref := tc.ref(pinned)
			obj := newGitRepository(ns, tc.name, url, func(o *sourcev1.GitRepository) {
				o.Spec.Reference = &ref
				o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
			})
			create(t, obj)
			waitRevision(t, obj, tc.revName+"sha1:"+pinned)
			wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "pinned"})
			time.Sleep(300 * time.Millisecond)
			before, reads := srv.Requests(), suiteEnv.client.reads(obj)
			time.Sleep(1200 * time.Millisecond)
			if polls := suiteEnv.client.reads(obj) - reads; polls < 2 {
				t.Fatalf("only %d reconciles in 1.2s with a 200ms interval", polls)
			}
			if got := srv.Requests().UploadPack - before.UploadPack; got != 0 {
				t.Errorf("%d fetches of a pinned commit already stored, want none", got)
			}
		})
	}
}
