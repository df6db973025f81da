package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryInclude checks spec.include: the included repository's fromPath lands at
// toPath, status.includedArtifacts records it, a new artifact of the included repository
// rebuilds the including one, and polling an unchanged setup clones nothing.
func TestGitRepositoryInclude(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	appURL, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	libURL, err := srv.InitRepo("lib")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").Files(map[string]string{"app.yaml": "app", "vendor/lib/stale.yaml": "replaced by the include"}).MustDo(t)
	srv.Commit("lib").Files(map[string]string{"manifests/lib.yaml": "lib v1", "README.md": "not included"}).MustDo(t)
	ns := newNamespace(t)

	lib := newGitRepository(ns, "lib", libURL, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	app := newGitRepository(ns, "app", appURL, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
		o.Spec.Include = []sourcev1.GitRepositoryInclude{{
			GitRepositoryRef: meta.LocalObjectReference{Name: "lib"},
			FromPath:         "manifests",
			ToPath:           "vendor/lib",
		}}
	})
	// The including repository comes first: it waits for the included one.
	create(t, app)
	waitNotReady(t, app, "IncludeUnavailable")
	wantCondition(t, app, sourcev1.IncludeUnavailableCondition, metav1.ConditionTrue, "NotFound", "lib")
	create(t, lib)
	waitReady(t, lib)
	waitReady(t, app)
	wantFiles(t, artifactFiles(t, app), map[string]tarEntry{"app.yaml": "app", "vendor/lib/lib.yaml": "lib v1"})
	wantNoCondition(t, app, sourcev1.IncludeUnavailableCondition)
	if len(app.Status.IncludedArtifacts) != 1 || app.Status.IncludedArtifacts[0].Digest != lib.Status.Artifact.Digest {
		t.Errorf("includedArtifacts = %+v, want lib's artifact %s", app.Status.IncludedArtifacts, lib.Status.Artifact.Digest)
	}
	if len(app.Status.ObservedInclude) != 1 || app.Status.ObservedInclude[0].ToPath != "vendor/lib" {
		t.Errorf("observedInclude = %+v", app.Status.ObservedInclude)
	}

	// Nothing changes: polling costs ref listings only.
	time.Sleep(300 * time.Millisecond)
	before, writes, reads := srv.Requests(), suiteEnv.client.statusWrites(app), suiteEnv.client.reads(app)
	time.Sleep(1500 * time.Millisecond)
	if polls := suiteEnv.client.reads(app) - reads; polls < 2 {
		t.Fatalf("only %d reconciles of the including repository in 1.5s with a 200ms interval", polls)
	}
	if got := srv.Requests().UploadPack - before.UploadPack; got != 0 {
		t.Errorf("%d fetches while neither repository changed, want none", got)
	}
	if got := suiteEnv.client.statusWrites(app) - writes; got != 0 {
		t.Errorf("%d status writes of the including repository while nothing changed, want none", got)
	}

	// A new commit in the included repository reaches the including one's artifact.
	srv.Commit("lib").File("manifests/lib.yaml", "lib v2").MustDo(t)
	requestReconcile(t, lib)
	waitFor(t, app, "the new lib content", func(o *sourcev1.GitRepository) bool {
		return len(o.Status.IncludedArtifacts) == 1 && o.Status.IncludedArtifacts[0].Revision != lib.Status.Artifact.Revision
	})
	wantFiles(t, artifactFiles(t, app), map[string]tarEntry{"app.yaml": "app", "vendor/lib/lib.yaml": "lib v2"})
}

// TestGitRepositoryIncludeEscapingPath refuses include paths that leave the repository:
// IncludeUnavailable=True, Stalled, and nothing written outside the working directory.
func TestGitRepositoryIncludeEscapingPath(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	ns := newNamespace(t)
	lib := newGitRepository(ns, "lib", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, lib)
	waitReady(t, lib)

	parent := filepath.Dir(suiteEnv.workDir)
	for _, tc := range []struct {
		name     string
		include  sourcev1.GitRepositoryInclude
		escapees []string
	}{
		{"to-path", sourcev1.GitRepositoryInclude{GitRepositoryRef: meta.LocalObjectReference{Name: "lib"}, ToPath: "../../../escaped-to"},
			[]string{filepath.Join(parent, "escaped-to"), filepath.Join(filepath.Dir(parent), "escaped-to")}},
		{"from-path", sourcev1.GitRepositoryInclude{GitRepositoryRef: meta.LocalObjectReference{Name: "lib"}, FromPath: "../../..", ToPath: "escaped-from"}, nil},
		{"absolute", sourcev1.GitRepositoryInclude{GitRepositoryRef: meta.LocalObjectReference{Name: "lib"}, ToPath: filepath.Join(parent, "escaped-abs")},
			[]string{filepath.Join(parent, "escaped-abs")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, url, func(o *sourcev1.GitRepository) {
				o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
				o.Spec.Include = []sourcev1.GitRepositoryInclude{tc.include}
			})
			create(t, obj)
			waitNotReady(t, obj, sourcev1.InvalidPathReason)
			wantCondition(t, obj, sourcev1.IncludeUnavailableCondition, metav1.ConditionTrue, sourcev1.InvalidPathReason, "lib")
			wantCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, sourcev1.InvalidPathReason)
			if obj.Status.Artifact != nil {
				t.Error("an artifact was stored for an include escaping the repository")
			}
			for _, p := range tc.escapees {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written outside the working directory", p)
				}
			}
		})
	}
}

// TestGitRepositoryIncludeMissingPath includes a fromPath the included artifact does not
// have: copying it fails with StorageOperationFailed naming the include, and no artifact.
func TestGitRepositoryIncludeMissingPath(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	ns := newNamespace(t)
	lib := newGitRepository(ns, "lib", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, lib)
	waitReady(t, lib)
	obj := newGitRepository(ns, "app", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		o.Spec.Include = []sourcev1.GitRepositoryInclude{{
			GitRepositoryRef: meta.LocalObjectReference{Name: "lib"}, FromPath: "does/not/exist", ToPath: "vendor",
		}}
	})
	create(t, obj)
	waitNotReady(t, obj, sourcev1.ArchiveOperationFailedReason)
	wantCondition(t, obj, sourcev1.StorageOperationFailedCondition, metav1.ConditionTrue, sourcev1.ArchiveOperationFailedReason,
		"include 'lib'", "does/not/exist")
	if obj.Status.Artifact != nil {
		t.Error("artifact stored although an include could not be copied")
	}
	if strings.Contains(reconcileMessage(obj), suiteEnv.workDir) {
		t.Errorf("the message exposes the controller's temporary paths: %q", reconcileMessage(obj))
	}
}
