package controller

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// deleteAndWait deletes obj and waits until the finalizer let it go.
func deleteAndWait(t *testing.T, obj client.Object) {
	t.Helper()
	if err := suiteEnv.env.Client.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	eventually(t, obj.GetName()+" deleted", func() bool {
		return apierrors.IsNotFound(suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	})
}

// TestSourceDeletion deletes sources: the finalizer removes their artifacts from storage and
// the server, while another object holding identical content keeps its own.
func TestSourceDeletion(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	reg := inProcessRegistry(t)
	pushFlux(t, plainClient(t), reg.URL("app")+":latest", map[string]string{"app.yaml": "app"}, oci.PushOptions{})
	ns := newNamespace(t)

	gone := newGitRepository(ns, "gone", url, func(o *sourcev1.GitRepository) { o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"} })
	kept := newGitRepository(ns, "kept", url, func(o *sourcev1.GitRepository) { o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"} })
	ociGone := newOCIRepository(ns, "oci-gone", reg.URL("app"), nil)
	for _, o := range []sourceObject{gone, kept, ociGone} {
		create(t, o)
	}
	waitReady(t, gone)
	waitReady(t, kept)
	waitReady(t, ociGone)
	if gone.Status.Artifact.Digest != kept.Status.Artifact.Digest {
		t.Fatalf("the same commit gave digests %s and %s", gone.Status.Artifact.Digest, kept.Status.Artifact.Digest)
	}
	for _, o := range []sourceObject{gone, ociGone} {
		if !controllerHasFinalizer(o) {
			t.Errorf("%s has no %s finalizer: %v", o.GetName(), reconcile.DefaultFinalizer, o.GetFinalizers())
		}
		a := o.GetArtifact()
		path := suiteEnv.storage.LocalPath(a)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("artifact of %s not in storage: %v", o.GetName(), err)
		}
		deleteAndWait(t, o)
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("artifact %s of the deleted %s is still in storage (%v)", path, o.GetName(), err)
		}
		if _, status, err := httpGet(a.URL); err != nil || status != http.StatusNotFound {
			t.Errorf("GET %s after deletion: %d %v, want 404", a.URL, status, err)
		}
	}
	// The other object's copy of the same content is untouched.
	get(t, kept)
	wantFiles(t, artifactFiles(t, kept), map[string]tarEntry{"app.yaml": "app"})
}

func controllerHasFinalizer(o client.Object) bool {
	for _, f := range o.GetFinalizers() {
		if f == reconcile.DefaultFinalizer {
			return true
		}
	}
	return false
}

// TestInvalidURLStalls gives sources URLs the API server accepts but no client can use:
// Stalled=True with reason URLInvalid, and no requeue (the object is not reconciled again
// although its interval is short) until the spec changes.
func TestInvalidURLStalls(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	goodURL, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	ns := newNamespace(t)
	short := metav1.Duration{Duration: 200 * time.Millisecond}

	for _, tc := range []struct {
		name string
		obj  sourceObject
	}{
		{"git-no-host", newGitRepository(ns, "git-no-host", "http://", func(o *sourcev1.GitRepository) {
			o.Spec.Interval = short
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		})},
		{"git-bad-escape", newGitRepository(ns, "git-bad-escape", "https://git.example.com/%zz", func(o *sourcev1.GitRepository) {
			o.Spec.Interval = short
		})},
		{"oci-uppercase", newOCIRepository(ns, "oci-uppercase", "oci://127.0.0.1:5000/Org/App", func(o *sourcev1.OCIRepository) {
			o.Spec.Interval = short
		})},
		{"oci-with-tag", newOCIRepository(ns, "oci-with-tag", "oci://127.0.0.1:5000/app:v1", func(o *sourcev1.OCIRepository) {
			o.Spec.Interval = short
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			create(t, tc.obj)
			stalled := func() bool {
				c := reconcile.GetCondition(tc.obj, meta.StalledCondition)
				return c != nil && c.Status == metav1.ConditionTrue
			}
			switch o := tc.obj.(type) {
			case *sourcev1.GitRepository:
				waitFor(t, o, "Stalled", func(*sourcev1.GitRepository) bool { return stalled() })
			case *sourcev1.OCIRepository:
				waitFor(t, o, "Stalled", func(*sourcev1.OCIRepository) bool { return stalled() })
			}
			wantCondition(t, tc.obj, meta.StalledCondition, metav1.ConditionTrue, sourcev1.URLInvalidReason)
			wantCondition(t, tc.obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.URLInvalidReason)
			wantCondition(t, tc.obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.URLInvalidReason)
			wantNoCondition(t, tc.obj, meta.ReconcilingCondition)
			if tc.obj.GetObservedGeneration() != tc.obj.GetGeneration() {
				t.Errorf("observedGeneration %d, want %d: a stalled spec counts as observed", tc.obj.GetObservedGeneration(), tc.obj.GetGeneration())
			}
			reads := suiteEnv.client.reads(tc.obj)
			time.Sleep(1200 * time.Millisecond)
			if n := suiteEnv.client.reads(tc.obj) - reads; n != 0 {
				t.Errorf("reconciled %d more times in 1.2s after stalling, want no requeue", n)
			}
		})
	}

	// Fixing the spec brings a stalled object back.
	t.Run("fixed", func(t *testing.T) {
		t.Parallel()
		obj := newGitRepository(ns, "fixed", "http://", func(o *sourcev1.GitRepository) {
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		})
		create(t, obj)
		waitNotReady(t, obj, sourcev1.URLInvalidReason)
		update(t, obj, func(o *sourcev1.GitRepository) { o.Spec.URL = goodURL })
		waitReady(t, obj)
		wantNoCondition(t, obj, meta.StalledCondition)
		wantNoCondition(t, obj, sourcev1.FetchFailedCondition)
	})
}
