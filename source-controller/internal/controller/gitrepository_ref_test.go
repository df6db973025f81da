package controller

import (
	"testing"
	"time"

	"gotk.dev/internal/testing/eventsink"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// newGitRepository returns a GitRepository for url with a long interval (tests trigger
// reconciles themselves), adjusted by mutate.
func newGitRepository(ns, name, url string, mutate func(*sourcev1.GitRepository)) *sourcev1.GitRepository {
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.GitRepositorySpec{
			URL:      url,
			Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	return obj
}

// TestGitRepositoryRefs checks every kind of spec.ref against a real Git server: the commit
// checked out (through the artifact's content) and the revision string, which must be
// exactly upstream's, since consumers and notifications compare and display it.
func TestGitRepositoryRefs(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{DefaultBranch: "master"})
	url, err := srv.InitRepo("org/app")
	if err != nil {
		t.Fatal(err)
	}
	file := func(content string) map[string]string { return map[string]string{"file.txt": content} }
	master := srv.Commit("org/app").Files(file("master")).MustDo(t)
	mainC := srv.Commit("org/app").Branch("main").Files(file("main")).MustDo(t)
	v100 := srv.Commit("org/app").Branch("release").Files(file("v1.0.0")).MustDo(t)
	v120 := srv.Commit("org/app").Branch("release").Files(file("v1.2.0")).MustDo(t)
	v200 := srv.Commit("org/app").Branch("release").Files(file("v2.0.0")).MustDo(t)
	pr := srv.Commit("org/app").ToRef("refs/pull/1/head").Parent("master").Files(file("pr")).MustDo(t)
	if err := srv.LightweightTag("org/app", "v1.0.0", v100); err != nil {
		t.Fatal(err)
	}
	for tag, target := range map[string]string{"v1.2.0": v120, "v2.0.0": v200} {
		if _, err := srv.AnnotatedTag("org/app", tag, target, gitserver.TagOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ns := newNamespace(t)

	for _, tc := range []struct {
		name    string
		ref     *sourcev1.GitRepositoryRef
		wantRev string
		content string
	}{
		{"default-branch-master", nil, "master@sha1:" + master, "master"},
		{"branch", &sourcev1.GitRepositoryRef{Branch: "main"}, "main@sha1:" + mainC, "main"},
		{"lightweight-tag", &sourcev1.GitRepositoryRef{Tag: "v1.0.0"}, "v1.0.0@sha1:" + v100, "v1.0.0"},
		{"annotated-tag", &sourcev1.GitRepositoryRef{Tag: "v1.2.0"}, "v1.2.0@sha1:" + v120, "v1.2.0"},
		{"semver", &sourcev1.GitRepositoryRef{SemVer: ">=1.0.0 <2.0.0"}, "v1.2.0@sha1:" + v120, "v1.2.0"},
		{"semver-wins-over-tag", &sourcev1.GitRepositoryRef{SemVer: "2.x", Tag: "v1.0.0"}, "v2.0.0@sha1:" + v200, "v2.0.0"},
		{"name-pull", &sourcev1.GitRepositoryRef{Name: "refs/pull/1/head"}, "refs/pull/1/head@sha1:" + pr, "pr"},
		{"name-branch", &sourcev1.GitRepositoryRef{Name: "refs/heads/main"}, "refs/heads/main@sha1:" + mainC, "main"},
		{"name-tag", &sourcev1.GitRepositoryRef{Name: "refs/tags/v1.2.0"}, "refs/tags/v1.2.0@sha1:" + v120, "v1.2.0"},
		{"commit", &sourcev1.GitRepositoryRef{Commit: master}, "sha1:" + master, "master"},
		{"commit-on-branch", &sourcev1.GitRepositoryRef{Branch: "release", Commit: v100}, "release@sha1:" + v100, "v1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, url, func(o *sourcev1.GitRepository) { o.Spec.Reference = tc.ref })
			create(t, obj)
			waitReady(t, obj)
			if got := obj.Status.Artifact.Revision; got != tc.wantRev {
				t.Errorf("revision = %s, want %s", got, tc.wantRev)
			}
			wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"file.txt": tc.content})
			wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, tc.wantRev)
			wantCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
			for _, c := range []string{meta.ReconcilingCondition, meta.StalledCondition, sourcev1.FetchFailedCondition,
				sourcev1.ArtifactOutdatedCondition, sourcev1.SourceVerifiedCondition} {
				wantNoCondition(t, obj, c)
			}
			if n := newArtifactEvents(sourcev1.GitRepositoryKind, ns, tc.name); n != 1 {
				// The event is posted asynchronously: allow it to arrive.
				eventually(t, "one NewArtifact event", func() bool { return newArtifactEvents(sourcev1.GitRepositoryKind, ns, tc.name) == 1 })
			}
			ev := suiteEnv.events.Of(sourcev1.GitRepositoryKind, ns, tc.name, sourcev1.NewArtifactReason)[0]
			if md := eventsink.UpstreamMetadata(ev); md["revision"] != tc.wantRev || md["digest"] != obj.Status.Artifact.Digest {
				t.Errorf("NewArtifact event metadata = %v, want revision %s and digest %s", ev.Metadata, tc.wantRev, obj.Status.Artifact.Digest)
			}
		})
	}

	for _, tc := range []struct {
		name string
		ref  *sourcev1.GitRepositoryRef
		want []string
	}{
		{"missing-tag", &sourcev1.GitRepositoryRef{Tag: "v9.9.9"}, []string{"v9.9.9"}},
		{"missing-branch", &sourcev1.GitRepositoryRef{Branch: "nope"}, []string{"nope"}},
		{"no-semver-match", &sourcev1.GitRepositoryRef{SemVer: ">=5.0.0"}, []string{">=5.0.0"}},
		{"commit-not-on-branch", &sourcev1.GitRepositoryRef{Branch: "main", Commit: pr}, []string{pr, "main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, url, func(o *sourcev1.GitRepository) { o.Spec.Reference = tc.ref })
			create(t, obj)
			waitNotReady(t, obj, sourcev1.GitOperationFailedReason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.GitOperationFailedReason, tc.want...)
			wantCondition(t, obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason)
			wantNoCondition(t, obj, meta.StalledCondition)
			wantNoCondition(t, obj, sourcev1.ArtifactInStorageCondition)
			if obj.Status.Artifact != nil {
				t.Errorf("artifact %s stored for a ref that does not exist", obj.Status.Artifact.Revision)
			}
		})
	}
}
