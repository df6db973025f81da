package journeys_test

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/s3server"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const bucketNS = "bucket"

// TestBucketRollout: manifests uploaded to an S3 bucket (versitygw on loopback) are applied
// by a Kustomization whose source is a Bucket; changing an object in the bucket is a new
// revision that reaches the cluster, and a .sourceignore object keeps files out.
func TestBucketRollout(t *testing.T) {
	t.Parallel()
	_, ctx := journey(t, 2*time.Minute)
	createNamespace(t, ctx, bucketNS)
	s3, err := s3server.Start(s3server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Close() })
	put := func(files map[string]string) {
		t.Helper()
		if err := s3.PutObjects(ctx, "manifests", files); err != nil {
			t.Fatal(err)
		}
	}
	put(map[string]string{
		"app.yaml":      configMap(bucketNS, "bucket-app", map[string]string{"version": "1"}),
		"draft.yaml":    configMap(bucketNS, "bucket-draft", map[string]string{"draft": "true"}),
		".sourceignore": "draft.yaml\n",
	})
	apply(t, ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s3", Namespace: bucketNS},
		StringData: map[string]string{"accesskey": s3.AccessKey(), "secretkey": s3.SecretKey()},
	})
	b := &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Name: "manifests", Namespace: bucketNS},
		Spec: sourcev1.BucketSpec{
			Provider:   sourcev1.BucketProviderGeneric,
			BucketName: "manifests",
			Endpoint:   s3.Endpoint(),
			Region:     s3.Region(),
			Insecure:   true,
			SecretRef:  &meta.LocalObjectReference{Name: "s3"},
			Interval:   metav1.Duration{Duration: longInterval},
			Timeout:    &metav1.Duration{Duration: 20 * time.Second},
		},
	}
	apply(t, ctx, b)
	ks := kustomization(bucketNS, "bucket-app", sourcev1.BucketKind, "manifests", "./")
	apply(t, ctx, ks)

	rev1 := bucketRevision(t, b, "")
	waitApplied(t, ctx, ks, rev1, time.Minute)
	if cm, ok := getConfigMap(t, ctx, bucketNS, "bucket-app"); !ok || cm.Data["version"] != "1" {
		t.Fatalf("ConfigMap bucket-app: %v, want version=1", cm)
	}
	if _, ok := getConfigMap(t, ctx, bucketNS, "bucket-draft"); ok {
		t.Error("draft.yaml, left out by .sourceignore, was applied")
	}

	put(map[string]string{"app.yaml": configMap(bucketNS, "bucket-app", map[string]string{"version": "2"})})
	requestReconcile(t, ctx, bucketNS, "bucket/manifests")
	rev2 := bucketRevision(t, b, rev1)
	waitApplied(t, ctx, ks, rev2, 30*time.Second)
	if cm, ok := getConfigMap(t, ctx, bucketNS, "bucket-app"); !ok || cm.Data["version"] != "2" {
		t.Errorf("ConfigMap bucket-app: %v, want version=2", cm)
	}
}

// bucketRevision waits until the Bucket is Ready with an artifact whose revision is not
// previous, and returns it.
func bucketRevision(t *testing.T, b *sourcev1.Bucket, previous string) string {
	t.Helper()
	waitFor(t, t.Context(), b, time.Minute, "Bucket "+b.Name+" to have a new artifact", readyAnd(b, func() (bool, string) {
		if a := b.Status.Artifact; a == nil || a.Revision == previous {
			return false, "no new artifact"
		}
		return true, ""
	}))
	return b.Status.Artifact.Revision
}
