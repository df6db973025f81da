package controller

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v3/pkg/repo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm/indexcache"
)

// TestHelmRepositoryIndex stores the index of a repository serving podinfo at several
// versions: the artifact is the normalised index, its revision its digest, status.url its
// address, the index is in the cache the charts read; while the index does not change, polls
// write nothing; a new chart version yields a new revision and event.
func TestHelmRepositoryIndex(t *testing.T) {
	t.Parallel()
	srv := podinfoRepo(t, helmrepo.Options{}, "6.0.0", "6.1.0", "6.2.0")
	ns := newNamespace(t)
	obj := newHelmRepository(ns, "podinfo", srv.URL, func(o *sourcev1.HelmRepository) {
		o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
	})
	create(t, obj)
	waitReady(t, obj)
	a := obj.Status.Artifact
	data := download(t, a)
	if a.Revision != a.Digest || !strings.HasPrefix(a.Revision, "sha256:") {
		t.Errorf("revision %s, digest %s: want both the sha256 digest of the normalised index", a.Revision, a.Digest)
	}
	if !strings.HasSuffix(a.Path, ".yaml") || obj.Status.URL != a.URL {
		t.Errorf("artifact path %s, status.url %q (artifact URL %s)", a.Path, obj.Status.URL, a.URL)
	}
	var idx repo.IndexFile
	if err := yaml.Unmarshal(data, &idx); err != nil {
		t.Fatalf("stored index does not parse: %v", err)
	}
	if got := idx.Entries["podinfo"]; len(got) != 3 || got[0].Version != "6.2.0" {
		t.Errorf("stored index podinfo entries = %d, first %v; want 3, newest first", len(got), got)
	}
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "stored artifact for revision '"+a.Revision+"'")
	wantCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
	eventually(t, "a NewArtifact event", func() bool { return newArtifactEvents(sourcev1.HelmRepositoryKind, ns, "podinfo") == 1 })
	ev := suiteEnv.events.Of(sourcev1.HelmRepositoryKind, ns, "podinfo", sourcev1.NewArtifactReason)[0]
	if md := eventsink.UpstreamMetadata(ev); md["revision"] != a.Revision || md["digest"] != a.Digest {
		t.Errorf("NewArtifact event metadata = %v", ev.Metadata)
	}
	if !strings.Contains(ev.Message, "fetched index of size") || !strings.Contains(ev.Message, srv.URL) {
		t.Errorf("NewArtifact message %q", ev.Message)
	}
	if _, err := suiteEnv.indexCache.Get(context.Background(), indexcache.Key{Repository: ns + "/podinfo", Revision: a.Revision},
		func() (*repo.IndexFile, error) { return nil, errors.New("not cached") }); err != nil {
		t.Errorf("the stored index is not in the shared cache: %v", err)
	}

	// Polls of an unchanged index fetch it and write nothing.
	time.Sleep(300 * time.Millisecond)
	fetches, writes := indexFetches(srv), suiteEnv.client.statusWrites(obj)
	time.Sleep(1200 * time.Millisecond)
	if indexFetches(srv)-fetches < 2 {
		t.Fatalf("the index was fetched %d times in 1.2s with a 200ms interval: not polled", indexFetches(srv)-fetches)
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 0 {
		t.Errorf("%d status writes while the index did not change, want none", got)
	}
	get(t, obj)
	if obj.Status.Artifact.Digest != a.Digest || !obj.Status.Artifact.LastUpdateTime.Equal(&a.LastUpdateTime) {
		t.Error("a new artifact was stored for an unchanged index")
	}

	// A new version is a new index revision.
	srv.AddPodinfo(t, "6.3.0")
	waitFor(t, obj, "a new index revision", func(o *sourcev1.HelmRepository) bool {
		return reconcile.IsReady(o) && o.Status.Artifact.Revision != a.Revision
	})
	wantNoCondition(t, obj, sourcev1.ArtifactOutdatedCondition)
	eventually(t, "a second NewArtifact event", func() bool { return newArtifactEvents(sourcev1.HelmRepositoryKind, ns, "podinfo") == 2 })
}

// indexFetches counts the index.yaml requests a repository server answered.
func indexFetches(srv *helmrepo.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Path == "/index.yaml" {
			n++
		}
	}
	return n
}

// TestHelmRepositoryCredentials fetches through basic auth (a rejected password is an
// AuthenticationFailed condition that names the URL and never the password) and mutual TLS
// from spec.certSecretRef.
func TestHelmRepositoryCredentials(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)

	const password = "hunter2-helm-secret"
	basic := podinfoRepo(t, helmrepo.Options{Username: "flux", Password: password}, "6.0.0")
	createSecret(t, ns, "creds", "", map[string][]byte{"username": []byte("flux"), "password": []byte("wrong-" + password)})
	obj := newHelmRepository(ns, "basic", basic.URL, func(o *sourcev1.HelmRepository) { o.Spec.SecretRef = &metaRef{Name: "creds"} })
	create(t, obj)
	waitNotReady(t, obj, sourcev1.AuthenticationFailedReason)
	wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason,
		basic.URL+"/index.yaml", "401", "credentials in spec.secretRef were rejected")
	wantNoSecret(t, obj, password, "wrong-"+password)
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}}, func(s *corev1.Secret) { s.Data["password"] = []byte(password) })
	requestReconcile(t, obj)
	waitReady(t, obj)
	wantNoCondition(t, obj, sourcev1.FetchFailedCondition)

	mtls := podinfoRepo(t, helmrepo.Options{TLS: true, ClientAuth: true}, "6.0.0")
	noCert := newHelmRepository(ns, "no-cert", mtls.URL, nil)
	create(t, noCert)
	waitNotReady(t, noCert, "Failed")
	wantCondition(t, noCert, sourcev1.FetchFailedCondition, metav1.ConditionTrue, "Failed", mtls.URL, "certificate")
	createSecret(t, ns, "tls", "", map[string][]byte{
		"ca.crt": mtls.Certs.CAPEM, "tls.crt": mtls.Certs.ClientCertPEM, "tls.key": mtls.Certs.ClientKeyPEM})
	withCert := newHelmRepository(ns, "mtls", mtls.URL, func(o *sourcev1.HelmRepository) { o.Spec.CertSecretRef = &metaRef{Name: "tls"} })
	create(t, withCert)
	waitReady(t, withCert)
}

// TestHelmRepositoryBadInput: an index over --helm-index-max-size, an index that is not one,
// an unreachable host and a URL with credentials in it each get a condition naming the
// problem and the URL; a healthy repository next to them is not affected.
func TestHelmRepositoryBadInput(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	healthy := podinfoRepo(t, helmrepo.Options{}, "6.0.0")

	huge := helmrepo.New(t, helmrepo.Options{})
	huge.SetRawIndex([]byte("apiVersion: v1\nentries: {}\n# " + strings.Repeat("x", int(testHelmLimits.MaxIndexSize)) + "\n"))
	garbage := helmrepo.New(t, helmrepo.Options{})
	garbage.SetRawIndex([]byte("this: [is not\n an index"))
	closed := closedPort(t)

	for _, tc := range []struct {
		name, url, reason string
		stalled           bool
		fragments         []string
	}{
		{"over-limit", huge.URL, sourcev1.IndexationFailedReason, false,
			[]string{huge.URL + "/index.yaml", "exceeds the maximum size", "--helm-index-max-size"}},
		{"not-an-index", garbage.URL, sourcev1.IndexationFailedReason, false, []string{garbage.URL + "/index.yaml"}},
		{"unreachable", "http://" + closed, "Failed", false, []string{"http://" + closed + "/index.yaml", "connection refused"}},
		{"credentials-in-url", "https://flux:s3cr3t-in-url@example.com/charts", sourcev1.URLInvalidReason, true,
			[]string{"example.com/charts", "credentials in the URL are not supported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newHelmRepository(ns, tc.name, tc.url, nil)
			create(t, obj)
			waitNotReady(t, obj, tc.reason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, tc.reason, tc.fragments...)
			if got := reconcile.IsTrue(obj, meta.StalledCondition); got != tc.stalled {
				t.Errorf("Stalled = %v, want %v", got, tc.stalled)
			}
			if obj.Status.Artifact != nil {
				t.Error("an artifact was stored for a bad index")
			}
			wantNoSecret(t, obj, "s3cr3t-in-url")
		})
	}
	good := newHelmRepository(ns, "healthy", healthy.URL, nil)
	create(t, good)
	waitReady(t, good)
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestHelmRepositoryOCI: an OCI HelmRepository is a data container as upstream: it gets no
// finalizer and no status, even on a reconcile request; a repository switched from the
// default type to oci loses its status, its stored index and the finalizer.
func TestHelmRepositoryOCI(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	oci := newHelmRepository(ns, "oci", "oci://ghcr.io/stefanprodan/charts", func(o *sourcev1.HelmRepository) {
		o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
	})
	create(t, oci)
	requestReconcile(t, oci)

	srv := podinfoRepo(t, helmrepo.Options{}, "6.0.0")
	switched := readyHelmRepository(t, ns, "switched", srv.URL, nil)
	storeDir := filepath.Join(suiteEnv.storage.BasePath(), "helmrepository", ns, "switched")
	if _, err := os.Stat(storeDir); err != nil {
		t.Fatalf("no stored index: %v", err)
	}
	update(t, switched, func(o *sourcev1.HelmRepository) {
		o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		o.Spec.URL = "oci://ghcr.io/stefanprodan/charts"
	})
	waitFor(t, switched, "the status and finalizer of a repository switched to oci to go", func(o *sourcev1.HelmRepository) bool {
		return reflect.DeepEqual(o.Status, sourcev1.HelmRepositoryStatus{}) && !controllerutil.ContainsFinalizer(o, "finalizers.fluxcd.io")
	})
	if _, err := os.Stat(storeDir); !os.IsNotExist(err) {
		t.Errorf("the stored index of a repository switched to oci is still there: %v", err)
	}

	// By now the request on the first one has long been seen, had it been reconciled.
	get(t, oci)
	if !reflect.DeepEqual(oci.Status, sourcev1.HelmRepositoryStatus{}) || len(oci.Finalizers) != 0 {
		t.Errorf("OCI HelmRepository got status %+v and finalizers %v, want none", oci.Status, oci.Finalizers)
	}
}
