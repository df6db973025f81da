package bucket

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"

	"gotk.dev/internal/testing/s3server"
)

// startS3 runs a versitygw for the test.
func startS3(t *testing.T, opts s3server.Options) *s3server.Server {
	t.Helper()
	s, err := s3server.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// seedS3 creates bucket on s and uploads files (key -> content) through the S3 API.
func seedS3(t *testing.T, s *s3server.Server, bucket string, files map[string]string) {
	t.Helper()
	if err := s.PutObjects(context.Background(), bucket, files); err != nil {
		t.Fatal(err)
	}
}

// putS3 uploads files to an existing bucket.
func putS3(t *testing.T, s *s3server.Server, bucket string, files map[string]string) {
	t.Helper()
	seedS3(t, s, bucket, files)
}

// genericConfig is the Config of a 'generic' Bucket reading bucket on s with its root keys.
func genericConfig(s *s3server.Server, bucket string) Config {
	return Config{
		Provider: sourcev1.BucketProviderGeneric,
		Options: provider.Options{
			Bucket:   bucket,
			Endpoint: s.Endpoint(),
			Region:   s.Region(),
			Insecure: s.CAPEM() == nil,
			Secret:   map[string][]byte{"accesskey": []byte(s.AccessKey()), "secretkey": []byte(s.SecretKey())},
			Timeout:  30 * time.Second,
		},
	}
}

func openClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// md5ETag is the ETag an S3 server gives a single-part upload: the hex MD5 of the content.
func md5ETag(content string) string {
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}

// wantRevision computes, independently of Index, the revision Flux gives a bucket holding
// files whose ETags are given by etag.
func wantRevision(files map[string]string, etag func(string) string) string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + " " + etag(files[k]) + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// readTree returns the regular files under dir (slash paths -> content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalTrees(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d files %v, want %d %v", len(got), sortedKeys(got), len(want), sortedKeys(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %q", k)
		} else if g != v {
			t.Errorf("%q = %q, want %q", k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %q", k)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ptr[T any](v T) *T { return &v }

var minioRemove = minio.RemoveObjectOptions{}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
