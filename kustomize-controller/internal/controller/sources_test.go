package controller

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/artifact"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// sourceObject is a GitRepository, OCIRepository or Bucket.
type sourceObject interface {
	client.Object
	GetArtifact() *meta.Artifact
}

// newSource creates a source of kind in ns without an artifact (not ready yet).
func newSource(t testing.TB, kind, ns, name string) sourceObject {
	t.Helper()
	om := metav1.ObjectMeta{Namespace: ns, Name: name}
	hour := metav1.Duration{Duration: time.Hour}
	var obj sourceObject
	switch kind {
	case sourcev1.GitRepositoryKind:
		obj = &sourcev1.GitRepository{ObjectMeta: om, Spec: sourcev1.GitRepositorySpec{URL: "https://git.example.com/repo", Interval: hour}}
	case sourcev1.OCIRepositoryKind:
		obj = &sourcev1.OCIRepository{ObjectMeta: om, Spec: sourcev1.OCIRepositorySpec{URL: "oci://registry.example.com/repo", Interval: hour}}
	case sourcev1.BucketKind:
		obj = &sourcev1.Bucket{ObjectMeta: om, Spec: sourcev1.BucketSpec{BucketName: "b", Endpoint: "s3.example.com", Interval: hour}}
	default:
		t.Fatalf("unknown source kind %s", kind)
	}
	if err := k8s().Create(testCtx(t), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// gitRepo creates a GitRepository in ns serving files.
func gitRepo(t testing.TB, ns, name string, files map[string]string) (sourceObject, *meta.Artifact) {
	t.Helper()
	src := newSource(t, sourcev1.GitRepositoryKind, ns, name)
	return src, publish(t, src, files, nil)
}

// publish archives files as the artifact of src, stores it in the suite's artifact server
// and records it in src's status, as source-controller does. metadata goes into the
// artifact's metadata (OCI annotations).
func publish(t testing.TB, src sourceObject, files map[string]string, metadata map[string]string) *meta.Artifact {
	t.Helper()
	ctx := testCtx(t)
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kind := sourceKind(src)
	ref := artifact.ObjectRef{Kind: kind, Namespace: src.GetNamespace(), Name: src.GetName()}
	a, err := suiteEnv.storage.ArchiveDir(ctx, ref, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(a.Digest))
	_, hexDigest, _ := strings.Cut(a.Digest, ":")
	switch kind {
	case sourcev1.GitRepositoryKind:
		a.Revision = "main@sha1:" + hex.EncodeToString(sum[:])
	case sourcev1.OCIRepositoryKind:
		a.Revision = "latest@sha256:" + hexDigest
	default:
		a.Revision = "sha256:" + hexDigest
	}
	a.Metadata = metadata
	setArtifact(t, src, a)
	return a
}

func sourceKind(src sourceObject) string {
	switch src.(type) {
	case *sourcev1.GitRepository:
		return sourcev1.GitRepositoryKind
	case *sourcev1.OCIRepository:
		return sourcev1.OCIRepositoryKind
	case *sourcev1.Bucket:
		return sourcev1.BucketKind
	}
	panic(fmt.Sprintf("unknown source %T", src))
}

// setArtifact writes a (Ready=True) into src's status.
func setArtifact(t testing.TB, src sourceObject, a *meta.Artifact) {
	t.Helper()
	ctx := testCtx(t)
	if err := k8s().Get(ctx, client.ObjectKeyFromObject(src), src); err != nil {
		t.Fatal(err)
	}
	base := src.DeepCopyObject().(client.Object)
	cond := metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "stored artifact for revision '" + a.Revision + "'", ObservedGeneration: src.GetGeneration(), LastTransitionTime: metav1.Now()}
	switch s := src.(type) {
	case *sourcev1.GitRepository:
		s.Status.Artifact, s.Status.ObservedGeneration = a, s.Generation
		apimeta.SetStatusCondition(&s.Status.Conditions, cond)
	case *sourcev1.OCIRepository:
		s.Status.Artifact, s.Status.ObservedGeneration = a, s.Generation
		apimeta.SetStatusCondition(&s.Status.Conditions, cond)
	case *sourcev1.Bucket:
		s.Status.Artifact, s.Status.ObservedGeneration = a, s.Generation
		apimeta.SetStatusCondition(&s.Status.Conditions, cond)
	}
	if err := k8s().Status().Patch(ctx, src, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
}
