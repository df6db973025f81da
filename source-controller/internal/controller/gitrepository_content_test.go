package controller

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// withoutIgnoreFiles drops .sourceignore files from a listing: whether they ship is not what
// these tests are about.
func withoutIgnoreFiles(files map[string]tarEntry) map[string]tarEntry {
	out := map[string]tarEntry{}
	for p, c := range files {
		if !strings.HasSuffix(p, ".sourceignore") {
			out[p] = c
		}
	}
	return out
}

// TestGitRepositoryIgnore checks what goes into the artifact: the default exclusions,
// .sourceignore files at any depth, and spec.ignore (which replaces the defaults); changing
// spec.ignore alone rebuilds the artifact and is recorded in status.observedIgnore.
func TestGitRepositoryIgnore(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	commit := srv.Commit("app").Files(map[string]string{
		"deploy/app.yaml":            "app",
		"deploy/logo.png":            "png",
		"bundle.tar.gz":              "tgz",
		".github/workflows/ci.yaml":  "ci",
		".gitlab-ci.yml":             "ci",
		"tools/.goreleaser.yml":      "goreleaser",
		".gitignore":                 "*.tmp",
		".sourceignore":              "/root-only.txt\n",
		"root-only.txt":              "ignored at the root",
		"deploy/root-only.txt":       "kept: the root pattern is anchored",
		"deploy/prod/.sourceignore":  "secrets.yaml\n",
		"deploy/prod/secrets.yaml":   "ignored by the nested .sourceignore",
		"deploy/prod/values.yaml":    "prod",
		"deploy/secrets.yaml":        "kept: the nested .sourceignore applies below its directory only",
		"docs/guide.md":              "docs",
		"deploy/prod/kustomize.yaml": "kustomize",
	}).MustDo(t)
	ns := newNamespace(t)
	obj := newGitRepository(ns, "ignore", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, obj)
	waitReady(t, obj)
	wantFiles(t, withoutIgnoreFiles(artifactFiles(t, obj)), map[string]tarEntry{
		"deploy/app.yaml":            "app",
		"deploy/root-only.txt":       "kept: the root pattern is anchored",
		"deploy/prod/values.yaml":    "prod",
		"deploy/secrets.yaml":        "kept: the nested .sourceignore applies below its directory only",
		"docs/guide.md":              "docs",
		"deploy/prod/kustomize.yaml": "kustomize",
	})
	if obj.Status.ObservedIgnore != nil {
		t.Errorf("observedIgnore = %q without spec.ignore", *obj.Status.ObservedIgnore)
	}
	firstDigest := obj.Status.Artifact.Digest

	// spec.ignore replaces the default list: media and CI files come back, docs/ goes.
	ignore := "docs/\n*.yml\n"
	update(t, obj, func(o *sourcev1.GitRepository) { o.Spec.Ignore = &ignore })
	waitFor(t, obj, "observedIgnore", func(o *sourcev1.GitRepository) bool {
		return o.Status.ObservedIgnore != nil && *o.Status.ObservedIgnore == ignore && o.Status.ObservedGeneration == o.Generation
	})
	if obj.Status.Artifact.Revision != "main@sha1:"+commit {
		t.Errorf("revision = %s, want the same commit", obj.Status.Artifact.Revision)
	}
	if obj.Status.Artifact.Digest == firstDigest {
		t.Error("changing spec.ignore did not produce a new artifact")
	}
	wantFiles(t, withoutIgnoreFiles(artifactFiles(t, obj)), map[string]tarEntry{
		"deploy/app.yaml":            "app",
		"deploy/logo.png":            "png",
		"bundle.tar.gz":              "tgz",
		".github/workflows/ci.yaml":  "ci",
		"deploy/root-only.txt":       "kept: the root pattern is anchored",
		"deploy/prod/values.yaml":    "prod",
		"deploy/secrets.yaml":        "kept: the nested .sourceignore applies below its directory only",
		"deploy/prod/kustomize.yaml": "kustomize",
	})
	eventually(t, "a NewArtifact event for the new ignore rules", func() bool {
		return newArtifactEvents(sourcev1.GitRepositoryKind, ns, "ignore") == 2
	})
}

// TestGitRepositorySubmodulesAndSparseCheckout checks spec.recurseSubmodules (with the
// parent's credentials reused for a submodule on the same host) and spec.sparseCheckout.
func TestGitRepositorySubmodulesAndSparseCheckout(t *testing.T) {
	t.Parallel()
	const user, password = "flux", "submodule-s3cret"
	srv := gitserver.New(t, gitserver.Options{Username: user, Password: password})
	subURL, err := srv.InitRepo("lib")
	if err != nil {
		t.Fatal(err)
	}
	subCommit := srv.Commit("lib").File("lib.yaml", "library").MustDo(t)
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").Files(map[string]string{
		"README.md":            "readme",
		"deploy/base/app.yaml": "base",
		"deploy/prod/app.yaml": "prod",
		"infra/db.yaml":        "db",
	}).Submodule("vendor/lib", subURL, subCommit).MustDo(t)
	ns := newNamespace(t)
	createSecret(t, ns, "auth", "", map[string][]byte{"username": []byte(user), "password": []byte(password)})

	for _, tc := range []struct {
		name   string
		mutate func(*sourcev1.GitRepository)
		want   map[string]tarEntry
	}{
		{"without-submodules", nil, map[string]tarEntry{
			"README.md": "readme", "deploy/base/app.yaml": "base", "deploy/prod/app.yaml": "prod", "infra/db.yaml": "db",
		}},
		{"recurse-submodules", func(o *sourcev1.GitRepository) { o.Spec.RecurseSubmodules = true }, map[string]tarEntry{
			"README.md": "readme", "deploy/base/app.yaml": "base", "deploy/prod/app.yaml": "prod", "infra/db.yaml": "db",
			"vendor/lib/lib.yaml": "library",
		}},
		{"sparse-checkout", func(o *sourcev1.GitRepository) { o.Spec.SparseCheckout = []string{"deploy/prod", "infra"} }, map[string]tarEntry{
			"deploy/prod/app.yaml": "prod", "infra/db.yaml": "db",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, url, func(o *sourcev1.GitRepository) {
				o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
				o.Spec.SecretRef = &metaRef{Name: "auth"}
				if tc.mutate != nil {
					tc.mutate(o)
				}
			})
			create(t, obj)
			waitReady(t, obj)
			wantFiles(t, artifactFiles(t, obj), tc.want)
			if obj.Status.ObservedRecurseSubmodules != obj.Spec.RecurseSubmodules {
				t.Errorf("observedRecurseSubmodules = %t, want %t", obj.Status.ObservedRecurseSubmodules, obj.Spec.RecurseSubmodules)
			}
			if strings.Join(obj.Status.ObservedSparseCheckout, ",") != strings.Join(obj.Spec.SparseCheckout, ",") {
				t.Errorf("observedSparseCheckout = %v, want %v", obj.Status.ObservedSparseCheckout, obj.Spec.SparseCheckout)
			}
		})
	}

	// Turning recurseSubmodules on for an unchanged commit rebuilds the artifact.
	t.Run("toggle", func(t *testing.T) {
		t.Parallel()
		obj := newGitRepository(ns, "toggle", url, func(o *sourcev1.GitRepository) {
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
			o.Spec.SecretRef = &metaRef{Name: "auth"}
		})
		create(t, obj)
		waitReady(t, obj)
		update(t, obj, func(o *sourcev1.GitRepository) { o.Spec.RecurseSubmodules = true })
		waitFor(t, obj, "observedRecurseSubmodules", func(o *sourcev1.GitRepository) bool {
			return o.Status.ObservedRecurseSubmodules && o.Status.ObservedGeneration == o.Generation
		})
		if _, ok := artifactFiles(t, obj)["vendor/lib/lib.yaml"]; !ok {
			t.Error("the artifact was not rebuilt with the submodule")
		}
		wantCondition(t, obj, "Ready", metav1.ConditionTrue, "")
	})
}
