package controller

import (
	"testing"
	"time"

	"gotk.dev/internal/testing/eventsink"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOCIRepositoryRefs pulls Flux artifacts by tag (default latest), semver (with
// semverFilter) and digest, and checks the revision strings, content, status.url and the
// artifact metadata taken from the manifest annotations.
func TestOCIRepositoryRefs(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := plainClient(t)
	repoURL := reg.URL("org/manifests")
	push := func(tag, content string) string {
		return pushFlux(t, c, repoURL+":"+tag, map[string]string{"app.yaml": content}, oci.PushOptions{
			Source: "https://git.example.com/org/app", Revision: "main@sha1:" + tag,
			Annotations: map[string]string{"org.example/team": "platform"},
		})
	}
	latest := push("latest", "latest")
	v100 := push("1.0.0", "1.0.0")
	v110 := push("1.1.0", "1.1.0")
	push("2.0.0", "2.0.0")
	dev := push("1.5.0-dev.1", "1.5.0-dev.1")
	push("1.6.0-rc.1", "1.6.0-rc.1")
	ns := newNamespace(t)

	for _, tc := range []struct {
		name    string
		ref     *sourcev1.OCIRepositoryRef
		wantRev string
		content string
		origin  string
	}{
		{"default-latest", nil, "latest@" + latest, "latest", "latest"},
		{"tag", &sourcev1.OCIRepositoryRef{Tag: "1.0.0"}, "1.0.0@" + v100, "1.0.0", "1.0.0"},
		{"semver", &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0 <2.0.0"}, "1.1.0@" + v110, "1.1.0", "1.1.0"},
		{"semver-filter", &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0-0", SemverFilter: ".*-dev\\..*"}, "1.5.0-dev.1@" + dev, "1.5.0-dev.1", "1.5.0-dev.1"},
		{"digest", &sourcev1.OCIRepositoryRef{Digest: v100}, v100, "1.0.0", "1.0.0"},
		{"digest-wins", &sourcev1.OCIRepositoryRef{Digest: v100, Tag: "latest"}, v100, "1.0.0", "1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newOCIRepository(ns, tc.name, repoURL, func(o *sourcev1.OCIRepository) { o.Spec.Reference = tc.ref })
			create(t, obj)
			waitReady(t, obj)
			a := obj.Status.Artifact
			if a.Revision != tc.wantRev {
				t.Errorf("revision = %s, want %s", a.Revision, tc.wantRev)
			}
			wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": tc.content})
			if obj.Status.URL != a.URL {
				t.Errorf("status.url = %q, want the artifact download URL %q", obj.Status.URL, a.URL)
			}
			for k, v := range map[string]string{
				sourcev1.OCISourceAnnotation:   "https://git.example.com/org/app",
				sourcev1.OCIRevisionAnnotation: "main@sha1:" + tc.origin,
				"org.example/team":             "platform",
			} {
				if a.Metadata[k] != v {
					t.Errorf("artifact metadata %s = %q, want %q (metadata: %v)", k, a.Metadata[k], v, a.Metadata)
				}
			}
			if a.Metadata[sourcev1.OCICreatedAnnotation] == "" {
				t.Errorf("artifact metadata lacks %s: %v", sourcev1.OCICreatedAnnotation, a.Metadata)
			}
			wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, tc.wantRev)
			wantCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
			eventually(t, "one NewArtifact event", func() bool {
				return newArtifactEvents(sourcev1.OCIRepositoryKind, ns, tc.name) == 1
			})
			ev := suiteEnv.events.Of(sourcev1.OCIRepositoryKind, ns, tc.name, sourcev1.NewArtifactReason)[0]
			if md := eventsink.UpstreamMetadata(ev); md["revision"] != tc.wantRev || md["digest"] != a.Digest {
				t.Errorf("NewArtifact event metadata = %v", ev.Metadata)
			}
		})
	}

	for _, tc := range []struct {
		name string
		ref  *sourcev1.OCIRepositoryRef
		want string
	}{
		{"missing-tag", &sourcev1.OCIRepositoryRef{Tag: "9.9.9"}, "9.9.9"},
		{"no-semver-match", &sourcev1.OCIRepositoryRef{SemVer: ">=3.0.0"}, ">=3.0.0"},
		{"missing-digest", &sourcev1.OCIRepositoryRef{Digest: "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, "0123456789abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newOCIRepository(ns, tc.name, repoURL, func(o *sourcev1.OCIRepository) { o.Spec.Reference = tc.ref })
			create(t, obj)
			waitNotReady(t, obj, sourcev1.OCIPullFailedReason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCIPullFailedReason, tc.want)
			if obj.Status.Artifact != nil {
				t.Error("artifact stored for a reference that does not exist")
			}
		})
	}
}

// TestOCIRepositoryTagMoves polls a tag: while it does not move, every interval costs one
// manifest HEAD and nothing else (no pull, no status write, no new artifact); a reconcile
// request likewise; once the tag is pushed again it yields a new revision, artifact and event.
func TestOCIRepositoryTagMoves(t *testing.T) {
	t.Parallel()
	reg := newCountingRegistry(t)
	c := plainClient(t)
	repoURL := "oci://" + reg.host + "/app"
	first := pushFlux(t, c, repoURL+":stable", map[string]string{"app.yaml": "v1"}, oci.PushOptions{})
	ns := newNamespace(t)
	obj := newOCIRepository(ns, "moving", repoURL, func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "stable"}
		o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
	})
	create(t, obj)
	waitRevision(t, obj, "stable@"+first)
	stored := obj.Status.Artifact.DeepCopy()
	eventually(t, "the first NewArtifact event", func() bool { return newArtifactEvents(sourcev1.OCIRepositoryKind, ns, "moving") == 1 })

	// Unchanged tag: polls resolve it and stop there.
	time.Sleep(300 * time.Millisecond)
	heads, pulls, writes, reads := reg.manifestHeads.Load(), reg.pulls(), suiteEnv.client.statusWrites(obj), suiteEnv.client.reads(obj)
	time.Sleep(1500 * time.Millisecond)
	polls := suiteEnv.client.reads(obj) - reads
	if polls < 2 {
		t.Fatalf("only %d reconciles in 1.5s with a 200ms interval", polls)
	}
	if got := reg.manifestHeads.Load() - heads; got < int64(polls)-1 {
		t.Errorf("%d manifest HEADs for %d polls, want one each", got, polls)
	}
	if got := reg.pulls() - pulls; got != 0 {
		t.Errorf("%d manifest or blob downloads while the tag did not move, want none", got)
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 0 {
		t.Errorf("%d status writes while nothing changed, want none", got)
	}

	// A reconcile request is recorded, nothing else moves.
	writes, pulls = suiteEnv.client.statusWrites(obj), reg.pulls()
	token := requestReconcile(t, obj)
	waitFor(t, obj, "request handled", func(o *sourcev1.OCIRepository) bool { return o.Status.LastHandledReconcileAt == token })
	if obj.Status.Artifact.Digest != stored.Digest || !obj.Status.Artifact.LastUpdateTime.Equal(&stored.LastUpdateTime) {
		t.Error("an unchanged tag produced a new artifact")
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 1 {
		t.Errorf("%d status writes for a request on an unchanged tag, want 1", got)
	}
	if reg.pulls() != pulls {
		t.Error("a request on an unchanged tag pulled the artifact")
	}

	second := pushFlux(t, c, repoURL+":stable", map[string]string{"app.yaml": "v2"}, oci.PushOptions{})
	if second == first {
		t.Fatal("the second push has the first digest")
	}
	waitRevision(t, obj, "stable@"+second)
	if obj.Status.Artifact.Digest == stored.Digest {
		t.Error("the moved tag kept the old artifact")
	}
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "v2"})
	eventually(t, "a second NewArtifact event", func() bool { return newArtifactEvents(sourcev1.OCIRepositoryKind, ns, "moving") == 2 })
}

// TestOCIRepositoryIgnore applies spec.ignore to an extracted artifact and rebuilds when it
// changes.
func TestOCIRepositoryIgnore(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	repoURL := reg.URL("app")
	pushFlux(t, plainClient(t), repoURL+":latest", map[string]string{
		"deploy/app.yaml": "app", "docs/readme.md": "docs", ".github/ci.yaml": "ci",
	}, oci.PushOptions{})
	ns := newNamespace(t)
	obj := newOCIRepository(ns, "ignore", repoURL, nil)
	create(t, obj)
	waitReady(t, obj)
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"deploy/app.yaml": "app", "docs/readme.md": "docs"})
	ignore := "docs/\n"
	update(t, obj, func(o *sourcev1.OCIRepository) { o.Spec.Ignore = &ignore })
	waitFor(t, obj, "observedIgnore", func(o *sourcev1.OCIRepository) bool {
		return o.Status.ObservedIgnore != nil && *o.Status.ObservedIgnore == ignore && o.Status.ObservedGeneration == o.Generation
	})
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"deploy/app.yaml": "app", ".github/ci.yaml": "ci"})
}
