package controller

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/azurite"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/s3server"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// newBucket returns a 'generic' Bucket of bucketName on s, authenticated with the Secret "s3"
// (see s3Secret), changed by mutate.
func newBucket(ns, name string, s *s3server.Server, bucketName string, mutate func(*sourcev1.Bucket)) *sourcev1.Bucket {
	obj := &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.BucketSpec{
			Provider:   sourcev1.BucketProviderGeneric,
			BucketName: bucketName,
			Endpoint:   s.Endpoint(),
			Region:     s.Region(),
			Insecure:   true,
			SecretRef:  &metaRef{Name: "s3"},
			Interval:   metav1.Duration{Duration: time.Hour},
			Timeout:    &metav1.Duration{Duration: 20 * time.Second},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	return obj
}

// startS3 runs versitygw for the test and creates the Secret "s3" with its credentials in ns.
func startS3(t *testing.T, ns string) *s3server.Server {
	t.Helper()
	s, err := s3server.Start(s3server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	createSecret(t, ns, "s3", corev1.SecretTypeOpaque, map[string][]byte{"accesskey": []byte(s.AccessKey()), "secretkey": []byte(s.SecretKey())})
	return s
}

func putObjects(t *testing.T, s *s3server.Server, bucket string, files map[string]string) {
	t.Helper()
	if err := s.PutObjects(context.Background(), bucket, files); err != nil {
		t.Fatal(err)
	}
}

// TestBucket archives the objects of a bucket on versitygw, reached through the proxy of
// spec.proxySecretRef: the revision is the digest of the key/ETag index, .sourceignore and
// spec.prefix select the objects; polls of an unchanged bucket list it and download nothing
// (the proxy counts the requests) and write nothing; a changed object is a new revision.
func TestBucket(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s3 := startS3(t, ns)
	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{})
	createSecret(t, ns, "proxy", "", map[string][]byte{"address": []byte(proxy.URL())})
	putObjects(t, s3, "apps", map[string]string{
		"apps/app.yaml":    "kind: ConfigMap\n",
		"apps/notes.md":    "ignored by .sourceignore",
		"other/skip.yaml":  "outside the prefix",
		".sourceignore":    "*.md\n",
		"apps/sub/a.yaml":  "a",
		"apps/dir/b.yaml":  "b",
		"apps/dir/c.jpeg":  "left out by the default exclusions",
		"apps/.git/config": "vcs",
	})
	obj := newBucket(ns, "apps", s3, "apps", func(o *sourcev1.Bucket) {
		o.Spec.Prefix = "apps/"
		o.Spec.Interval = metav1.Duration{Duration: 200 * time.Millisecond}
		o.Spec.ProxySecretRef = &metaRef{Name: "proxy"}
	})
	create(t, obj)
	waitReady(t, obj)
	a := obj.Status.Artifact
	wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{
		"apps/app.yaml": "kind: ConfigMap\n", "apps/sub/a.yaml": "a", "apps/dir/b.yaml": "b",
	})
	want := indexRevision(map[string]string{"apps/app.yaml": md5Hex("kind: ConfigMap\n"), "apps/sub/a.yaml": md5Hex("a"), "apps/dir/b.yaml": md5Hex("b")})
	if a.Revision != want {
		t.Errorf("revision %s, want the digest of the key/ETag index %s", a.Revision, want)
	}
	if obj.Status.URL != a.URL {
		t.Errorf("status.url %q, want %q", obj.Status.URL, a.URL)
	}
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "stored artifact for revision '"+a.Revision+"'")
	eventually(t, "a NewArtifact event", func() bool { return newArtifactEvents(sourcev1.BucketKind, ns, "apps") == 1 })
	ev := suiteEnv.events.Of(sourcev1.BucketKind, ns, "apps", sourcev1.NewArtifactReason)[0]
	if md := eventsink.UpstreamMetadata(ev); md["revision"] != a.Revision || md["digest"] != a.Digest ||
		ev.Message != "stored artifact with 3 fetched files from 'apps' bucket" {
		t.Errorf("event %q metadata %v", ev.Message, ev.Metadata)
	}

	if proxy.Served() == 0 {
		t.Fatal("nothing went through spec.proxySecretRef's proxy")
	}

	// An unchanged bucket: polls list it, download nothing, write nothing.
	time.Sleep(300 * time.Millisecond)
	reads, writes, requests := suiteEnv.client.reads(obj), suiteEnv.client.statusWrites(obj), proxy.Served()
	time.Sleep(1200 * time.Millisecond)
	polls, sent := suiteEnv.client.reads(obj)-reads, proxy.Served()-requests
	if polls < 2 {
		t.Fatal("the bucket is not polled")
	}
	// A poll is: does the bucket exist, read .sourceignore, list the prefix. Downloading
	// the three selected objects would add three.
	if perPoll := float64(sent) / float64(polls); perPoll > 3.5 {
		t.Errorf("%d requests for %d polls of an unchanged bucket (%.1f each), want 3 each: something was downloaded", sent, polls, perPoll)
	}
	if got := suiteEnv.client.statusWrites(obj) - writes; got != 0 {
		t.Errorf("%d status writes while the bucket did not change, want none", got)
	}
	if n := workDirEntries(t); n != 0 {
		t.Errorf("%d working directories left behind", n)
	}
	get(t, obj)
	if obj.Status.Artifact.Digest != a.Digest || !obj.Status.Artifact.LastUpdateTime.Equal(&a.LastUpdateTime) {
		t.Error("a new artifact was stored for an unchanged bucket")
	}

	putObjects(t, s3, "apps", map[string]string{"apps/app.yaml": "kind: Secret\n"})
	waitFor(t, obj, "a new revision", func(o *sourcev1.Bucket) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Revision != a.Revision && o.Status.ObservedGeneration == o.Generation
	})
	if got := artifactFiles(t, obj)["apps/app.yaml"]; got != "kind: Secret\n" {
		t.Errorf("apps/app.yaml = %q after the change", got)
	}
}

// TestBucketBadInput: an object key that would climb out of the working directory, wrong
// credentials, a missing bucket or Secret and an unreachable endpoint each get a FetchFailed
// condition naming the bucket (and the key), without a credential in it; nothing is written
// outside the working directory, and a healthy Bucket next to them is not affected.
func TestBucketBadInput(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s3 := startS3(t, ns)
	putObjects(t, s3, "good", map[string]string{"ok.yaml": "ok"})
	// versitygw accepts this key and lists it as is (a Windows path that climbs twice).
	const evilKey = `..\..\escaped.yaml`
	putObjects(t, s3, "evil", map[string]string{"ok.yaml": "ok", evilKey: "evil"})
	createSecret(t, ns, "wrong", "", map[string][]byte{"accesskey": []byte(s3.AccessKey()), "secretkey": []byte("not-the-secret-key")})
	closed := closedPort(t)
	for _, tc := range []struct {
		name, reason string
		mutate       func(*sourcev1.Bucket)
		fragments    []string
	}{
		{"malicious-key", sourcev1.BucketOperationFailedReason, func(o *sourcev1.Bucket) { o.Spec.BucketName = "evil" },
			[]string{"bucket 'evil'", "escaped.yaml", "refusing object key"}},
		{"wrong-secret", sourcev1.BucketOperationFailedReason, func(o *sourcev1.Bucket) { o.Spec.SecretRef = &metaRef{Name: "wrong"} },
			[]string{"bucket 'good'", s3.Endpoint()}},
		{"missing-bucket", sourcev1.BucketOperationFailedReason, func(o *sourcev1.Bucket) { o.Spec.BucketName = "absent" },
			[]string{"bucket 'absent'", "does not exist"}},
		{"unreachable", sourcev1.BucketOperationFailedReason, func(o *sourcev1.Bucket) { o.Spec.Endpoint = closed },
			[]string{"bucket 'good'", closed}},
		{"missing-secret", sourcev1.AuthenticationFailedReason, func(o *sourcev1.Bucket) { o.Spec.SecretRef = &metaRef{Name: "absent"} },
			[]string{"'absent'", "spec.secretRef"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newBucket(ns, tc.name, s3, "good", tc.mutate)
			create(t, obj)
			waitNotReady(t, obj, tc.reason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, tc.reason, tc.fragments...)
			wantNoSecret(t, obj, "not-the-secret-key", s3.SecretKey())
			if obj.Status.Artifact != nil {
				t.Error("an artifact was stored")
			}
		})
	}
	healthy := newBucket(ns, "healthy", s3, "good", nil)
	create(t, healthy)
	waitReady(t, healthy)
	for _, p := range []string{filepath.Dir(suiteEnv.workDir), filepath.Dir(filepath.Dir(suiteEnv.workDir))} {
		if _, err := os.Stat(filepath.Join(p, "escaped.yaml")); !os.IsNotExist(err) {
			t.Errorf("an object key wrote outside the working directory: %v", err)
		}
	}
}

// indexRevision computes the Bucket revision of keys with their ETags independently of the
// bucket package: sha256 over "<key> <etag>\n" in key order.
func indexRevision(etags map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(etags) {
		fmt.Fprintf(&b, "%s %s\n", k, etags[k])
	}
	return "sha256:" + sha256Hex([]byte(b.String()))
}

// workDirEntries counts what is left in the reconcilers' working directory.
func workDirEntries(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir(suiteEnv.workDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "bucket-") {
			n++
		}
	}
	return n
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestBucketAzure archives a container of Azurite, the Azure Blob Storage emulator, through
// the azure provider with a shared account key.
func TestBucketAzure(t *testing.T) {
	t.Parallel()
	az, err := azurite.Start(azurite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { az.Close() })
	files := map[string]string{"deploy/app.yaml": "kind: ConfigMap\n", "deploy/readme.md": "default exclusions leave markdown in"}
	etags, err := az.PutBlobs(context.Background(), "manifests", files)
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	createSecret(t, ns, "azure", "", map[string][]byte{"accountKey": []byte(azurite.AccountKey)})
	obj := &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "azure"},
		Spec: sourcev1.BucketSpec{
			Provider:   sourcev1.BucketProviderAzure,
			BucketName: "manifests",
			Endpoint:   az.ServiceURL(),
			Insecure:   true,
			SecretRef:  &metaRef{Name: "azure"},
			Interval:   metav1.Duration{Duration: time.Hour},
			Timeout:    &metav1.Duration{Duration: 30 * time.Second},
		},
	}
	create(t, obj)
	waitReady(t, obj)
	if want := indexRevision(etags); obj.Status.Artifact.Revision != want {
		t.Errorf("revision %s, want %s", obj.Status.Artifact.Revision, want)
	}
	wantFiles(t, artifactFiles(t, obj), files)
}
