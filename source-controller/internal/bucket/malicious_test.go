package bucket

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"

	"gotk.dev/internal/testing/s3server"
)

// Object keys are attacker-controlled: whoever can write to the bucket must not be able to
// make the controller write outside its working directory (the 2026 Bucket path-traversal
// advisory). Keys versitygw accepts are created through its S3 API; keys it refuses itself
// ("..", which Amazon S3 accepts) are served by listingServer below.

func TestMaliciousKeysThroughS3(t *testing.T) {
	s := startS3(t, s3server.Options{})
	for _, key := range []string{`..\..\escape.yaml`, `dir\file.yaml`} {
		t.Run(key, func(t *testing.T) {
			bucket := fmt.Sprintf("bs-%d", len(key))
			seedS3(t, s, bucket, map[string]string{"good.yaml": "ok", key: "evil"})
			c := openClient(t, genericConfig(s, bucket))
			_, err := c.Index(context.Background())
			assertRefused(t, err, key, bucket)
		})
	}
}

func TestMaliciousKeysFromListing(t *testing.T) {
	for _, key := range []string{"../escape.yaml", "a/../../escape.yaml", "/etc/cron.d/evil", "a//b.yaml", "./a.yaml", ".."} {
		t.Run(key, func(t *testing.T) {
			srv := listingServer(t, map[string]string{"good.yaml": "ok", key: "evil"})
			cfg := Config{Provider: sourcev1.BucketProviderGeneric, Options: provider.Options{
				Bucket: "fake", Endpoint: strings.TrimPrefix(srv.URL, "http://"), Insecure: true,
				Secret: map[string][]byte{"accesskey": []byte("ak"), "secretkey": []byte("sk")}, Timeout: 10 * time.Second,
			}}
			c := openClient(t, cfg)
			_, err := c.Index(context.Background())
			assertRefused(t, err, key, "fake")

			// Download validates again, for an index that did not come from Index.
			parent := t.TempDir()
			dir := filepath.Join(parent, "work")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err = c.Download(context.Background(), NewIndex(Object{Key: "good.yaml"}, Object{Key: key}), dir, DownloadOptions{})
			assertRefused(t, err, key, "fake")
			if entries, _ := os.ReadDir(parent); len(entries) != 1 {
				t.Errorf("something was written next to the working directory: %v", entries)
			}
		})
	}
}

// TestSymlinkInWorkingDirectory: a symlink already in the working directory must not carry a
// write outside it.
func TestSymlinkInWorkingDirectory(t *testing.T) {
	s := startS3(t, s3server.Options{})
	seedS3(t, s, "symlinked", map[string]string{"link/payload.yaml": "evil", "ok.yaml": "ok"})
	c := openClient(t, genericConfig(s, "symlinked"))
	idx, err := c.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	err = c.Download(context.Background(), idx, dir, DownloadOptions{})
	if err == nil || !strings.Contains(err.Error(), "'link/payload.yaml'") {
		t.Fatalf("err = %v, want a refusal naming link/payload.yaml", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("the download followed the symlink and wrote %v outside the working directory", entries)
	}
}

func assertRefused(t *testing.T, err error, key, bucket string) {
	t.Helper()
	if err == nil {
		t.Fatalf("key %q accepted", key)
	}
	msg := err.Error()
	if !strings.Contains(msg, fmt.Sprintf("%q", key)) || !strings.Contains(msg, "bucket '"+bucket+"'") {
		t.Errorf("error does not name the key %q and the bucket: %s", key, msg)
	}
	if ReasonOf(err) != sourcev1.BucketOperationFailedReason {
		t.Errorf("reason %s", ReasonOf(err))
	}
}

// listingServer answers the S3 calls Index and Download make (GetBucketLocation, HeadBucket,
// ListObjectsV2, GetObject) for one bucket named "fake" holding objects, with keys exactly as given: Amazon
// S3 accepts keys such as "../x" that versitygw refuses, and a hostile or compromised
// S3-compatible service can list anything.
func listingServer(t *testing.T, objects map[string]string) *httptest.Server {
	t.Helper()
	type content struct {
		Key  string `xml:"Key"`
		ETag string `xml:"ETag"`
		Size int    `xml:"Size"`
	}
	type listResult struct {
		XMLName     xml.Name  `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Name        string    `xml:"Name"`
		KeyCount    int       `xml:"KeyCount"`
		MaxKeys     int       `xml:"MaxKeys"`
		IsTruncated bool      `xml:"IsTruncated"`
		Contents    []content `xml:"Contents"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.EscapedPath(), "/fake")
		switch {
		case !strings.HasPrefix(r.URL.Path, "/fake"):
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodHead && (path == "" || path == "/"):
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodGet && r.URL.Query().Has("location"):
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">us-east-1</LocationConstraint>`)
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			res := listResult{Name: "fake", MaxKeys: 1000}
			for _, k := range sortedKeys(objects) {
				res.Contents = append(res.Contents, content{Key: k, ETag: `"` + md5ETag(objects[k]) + `"`, Size: len(objects[k])})
			}
			res.KeyCount = len(res.Contents)
			w.Header().Set("Content-Type", "application/xml")
			_ = xml.NewEncoder(w).Encode(res)
		case r.Method == http.MethodGet:
			key := strings.TrimPrefix(r.URL.Path, "/fake/")
			body, ok := objects[key]
			if !ok {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintf(w, `<Error><Code>NoSuchKey</Code><Message>no such key</Message><Key>%s</Key></Error>`, key)
				return
			}
			w.Header().Set("ETag", `"`+md5ETag(body)+`"`)
			w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
			_, _ = w.Write([]byte(body))
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
