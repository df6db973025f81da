package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// leftoverWorkDirs lists the reconciler's temporary directories of an object still present.
func leftoverWorkDirs(t *testing.T, prefix, ns, name string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(suiteEnv.workDir, fmt.Sprintf("%s-%s-%s-*", prefix, ns, name)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGitRepositorySymlinks serves a repository with symlinks pointing outside it: they are
// left out of the artifact and named in the Ready message, while links inside are kept.
func TestGitRepositorySymlinks(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("deploy/app.yaml", "app").MustDo(t)
	link := func(name, target string) object.TreeEntry {
		return object.TreeEntry{Name: name, Mode: filemode.Symlink, Hash: storeBlob(t, srv.Path("app"), []byte(target))}
	}
	commit := commitRootEntries(t, srv.Path("app"), "main", "add links",
		link("escape-abs", "/etc/passwd"),
		link("escape-rel", "../../../../../../etc"),
		link("escape-sneaky", "deploy/../../outside"),
		link("inside-file", "deploy/app.yaml"),
		link("inside-dir", "deploy"),
		// Lexically "dot/.." is the root itself; the kernel resolves it to the root's parent.
		link("dot", "."),
		link("escape-chain", "dot/.."),
	)
	ns := newNamespace(t)
	obj := newGitRepository(ns, "links", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, obj)
	waitRevision(t, obj, "main@sha1:"+commit)
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason,
		"escape-abs", "escape-rel", "escape-sneaky", "escape-chain")
	if msg := reconcileMessage(obj); strings.Contains(msg, "inside") || strings.Contains(msg, "dot,") {
		t.Errorf("Ready message names links that stay inside: %q", msg)
	}
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{
		"deploy/app.yaml": "app",
		"inside-file":     "-> deploy/app.yaml",
		"inside-dir":      "-> deploy",
		"dot":             "-> .",
	})
	if dirs := leftoverWorkDirs(t, "gitrepository", ns, "links"); len(dirs) > 0 {
		t.Errorf("working directories left behind: %v", dirs)
	}
}

func reconcileMessage(obj interface{ GetConditions() []metav1.Condition }) string {
	for _, c := range obj.GetConditions() {
		if c.Type == meta.ReadyCondition {
			return c.Message
		}
	}
	return ""
}

// TestGitRepositorySizeLimit serves content larger than MaxArtifactSize (1 MiB here): the
// artifact is refused with BuildFailed and a message naming the limit, ignored files do not
// count, and the object recovers once the content shrinks.
func TestGitRepositorySizeLimit(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	big := srv.Commit("app").Files(map[string]string{
		"app.yaml":    "app",
		"big/data.db": strings.Repeat("a", 3<<20),
	}).MustDo(t)
	ns := newNamespace(t)

	obj := newGitRepository(ns, "big", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, obj)
	waitNotReady(t, obj, "ArtifactTooLarge")
	wantCondition(t, obj, sourcev1.BuildFailedCondition, metav1.ConditionTrue, "ArtifactTooLarge",
		"main@sha1:"+big, fmt.Sprint(testMaxArtifactSize))
	if obj.Status.Artifact != nil {
		t.Fatal("an artifact was stored above the size limit")
	}

	ignored := newGitRepository(ns, "big-ignored", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		ignore := "big/\n"
		o.Spec.Ignore = &ignore
	})
	create(t, ignored)
	waitReady(t, ignored)
	wantFiles(t, artifactFiles(t, ignored), map[string]tarEntry{"app.yaml": "app"})

	small := srv.Commit("app").Delete("big").MustDo(t)
	requestReconcile(t, obj)
	waitRevision(t, obj, "main@sha1:"+small)
	wantNoCondition(t, obj, sourcev1.BuildFailedCondition)
	if dirs := leftoverWorkDirs(t, "gitrepository", ns, "big"); len(dirs) > 0 {
		t.Errorf("working directories left behind: %v", dirs)
	}
}

// TestGitRepositoryLargeFile serves a real 256 MiB file (zeros, so the repository stays
// small): the clone refuses it for the artifact size limit before indexing it (pkg/git's
// TestCloneRefusesLargeFileWithoutLoadingIt measures the memory that costs), and no working
// directory is left behind.
func TestGitRepositoryLargeFile(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	srv.Commit("app").ZeroFile("zeros.bin", 256<<20).Message("add 256 MiB").MustDo(t)
	ns := newNamespace(t)
	obj := newGitRepository(ns, "large", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, obj)
	waitNotReady(t, obj, "ArtifactTooLarge")
	wantCondition(t, obj, sourcev1.BuildFailedCondition, metav1.ConditionTrue, "ArtifactTooLarge", "268435456 bytes", "branch 'main'")
	if obj.Status.Artifact != nil {
		t.Fatal("an artifact was stored above the size limit")
	}
	// Stop the retries before looking for leftovers.
	if err := suiteEnv.env.Client.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the object gone", func() bool {
		return apierrors.IsNotFound(suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	})
	eventually(t, "the checkout removed", func() bool {
		return len(leftoverWorkDirs(t, "gitrepository", ns, "large")) == 0
	})
}
