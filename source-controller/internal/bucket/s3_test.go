package bucket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/internal/testing/s3server"
)

// One versitygw serves every generic-provider test; each test uses its own bucket.
func TestGenericS3(t *testing.T) {
	s := startS3(t, s3server.Options{})

	t.Run("index, revision and download", func(t *testing.T) {
		files := map[string]string{
			"deploy/app.yaml":      "kind: ConfigMap\n",
			"deploy/base/svc.yaml": "kind: Service\n",
			"README.md":            "# hello\n",
		}
		seedS3(t, s, "content", files)
		c := openClient(t, genericConfig(s, "content"))

		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(idx.Keys(), ","), "README.md,deploy/app.yaml,deploy/base/svc.yaml"; got != want {
			t.Errorf("keys = %s, want %s", got, want)
		}
		for _, o := range idx.Objects() {
			if o.ETag != md5ETag(files[o.Key]) || o.Size != int64(len(files[o.Key])) {
				t.Errorf("%s: etag %q size %d, want %q %d", o.Key, o.ETag, o.Size, md5ETag(files[o.Key]), len(files[o.Key]))
			}
		}
		if got, want := idx.Revision(), wantRevision(files, md5ETag); got != want {
			t.Errorf("revision %s, want %s", got, want)
		}
		dir := t.TempDir()
		if err := c.Download(context.Background(), idx, dir, DownloadOptions{}); err != nil {
			t.Fatal(err)
		}
		equalTrees(t, readTree(t, dir), files)
	})

	t.Run("unchanged bucket needs no download, a change does", func(t *testing.T) {
		seedS3(t, s, "unchanged", map[string]string{"a.yaml": "a: 1\n", "b.yaml": "b: 1\n"})
		c := openClient(t, genericConfig(s, "unchanged"))
		first, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		artifact := &meta.Artifact{Revision: first.Revision()}
		again, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !again.UpToDate(artifact) {
			t.Fatalf("second index %s not up to date with %s", again.Revision(), artifact.Revision)
		}
		putS3(t, s, "unchanged", map[string]string{"b.yaml": "b: 2\n"})
		changed, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if changed.UpToDate(artifact) {
			t.Fatal("index after a content change still up to date")
		}
		// The legacy bare-hex revision of a v1beta2 artifact also counts as up to date.
		if !changed.UpToDate(&meta.Artifact{Revision: changed.Digest()}) {
			t.Error("bare hex revision not recognised")
		}
	})

	t.Run("prefix", func(t *testing.T) {
		seedS3(t, s, "prefixed", map[string]string{"apps/a.yaml": "a", "apps/b/c.yaml": "c", "infra/x.yaml": "x", "appsz.yaml": "z"})
		cfg := genericConfig(s, "prefixed")
		cfg.Prefix = "apps/"
		c := openClient(t, cfg)
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(idx.Keys(), ","); got != "apps/a.yaml,apps/b/c.yaml" {
			t.Errorf("keys = %s", got)
		}
		dir := t.TempDir()
		if err := c.Download(context.Background(), idx, dir, DownloadOptions{}); err != nil {
			t.Fatal(err)
		}
		equalTrees(t, readTree(t, dir), map[string]string{"apps/a.yaml": "a", "apps/b/c.yaml": "c"})
	})

	t.Run("default exclusions, spec.ignore and .sourceignore", func(t *testing.T) {
		files := map[string]string{
			"deploy/app.yaml":         "app",
			"deploy/notes.md":         "notes",
			"deploy/logo.png":         "png",
			".github/workflows/c.yml": "ci",
			".git/config":             "git",
			"docs/index.md":           "docs",
			"secret/keep.yaml":        "keep",
			"secret/drop.yaml":        "drop",
		}
		seedS3(t, s, "ignored", files)
		tests := []struct {
			name         string
			sourceignore string
			ignore       *string
			want         string
		}{{
			name: "defaults only",
			want: "deploy/app.yaml,deploy/notes.md,docs/index.md,secret/drop.yaml,secret/keep.yaml",
		}, {
			name:         ".sourceignore adds rules on top of the defaults",
			sourceignore: "# comment\ndocs/\nsecret/*\n!secret/keep.yaml\n",
			want:         "deploy/app.yaml,deploy/notes.md,secret/keep.yaml",
		}, {
			name:   "spec.ignore replaces the defaults (VCS stays excluded)",
			ignore: ptr("*.md\n"),
			want:   ".github/workflows/c.yml,deploy/app.yaml,deploy/logo.png,secret/drop.yaml,secret/keep.yaml",
		}, {
			name:         "spec.ignore overrules .sourceignore",
			sourceignore: "docs/\n",
			ignore:       ptr("/*\n!/docs\n"),
			want:         "docs/index.md",
		}}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mc, _ := s.Client()
				_ = mc.RemoveObject(context.Background(), "ignored", ".sourceignore", minioRemove)
				if tt.sourceignore != "" {
					putS3(t, s, "ignored", map[string]string{".sourceignore": tt.sourceignore})
				}
				cfg := genericConfig(s, "ignored")
				cfg.Ignore = tt.ignore
				idx, err := openClient(t, cfg).Index(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(idx.Keys(), ","); got != tt.want {
					t.Errorf("keys = %s\n want %s", got, tt.want)
				}
			})
		}
	})

	t.Run("many objects", func(t *testing.T) {
		files := map[string]string{}
		for i := range 1500 { // more than one 1000-key listing page
			files[fmt.Sprintf("d%02d/obj-%04d.yaml", i%37, i)] = fmt.Sprintf("n: %d\n", i)
		}
		seedS3(t, s, "many", files)
		c := openClient(t, genericConfig(s, "many"))
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if idx.Len() != len(files) {
			t.Fatalf("indexed %d objects, want %d", idx.Len(), len(files))
		}
		if got, want := idx.Revision(), wantRevision(files, md5ETag); got != want {
			t.Errorf("revision %s, want %s", got, want)
		}
		dir := t.TempDir()
		start := time.Now()
		if err := c.Download(context.Background(), idx, dir, DownloadOptions{Concurrency: 8}); err != nil {
			t.Fatal(err)
		}
		t.Logf("downloaded %d objects in %s", idx.Len(), time.Since(start))
		equalTrees(t, readTree(t, dir), files)
	})

	t.Run("size limits", func(t *testing.T) {
		seedS3(t, s, "sizes", map[string]string{"small.yaml": "x", "big.yaml": strings.Repeat("y", 4096)})
		c := openClient(t, genericConfig(s, "sizes"))
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		err = c.Download(context.Background(), idx, t.TempDir(), DownloadOptions{MaxObjectSize: 1024})
		if !errors.Is(err, ErrSizeLimit) || !strings.Contains(err.Error(), "'big.yaml'") {
			t.Errorf("per-object limit: %v", err)
		}
		err = c.Download(context.Background(), idx, t.TempDir(), DownloadOptions{MaxTotalSize: 4000})
		if !errors.Is(err, ErrSizeLimit) {
			t.Errorf("total limit: %v", err)
		}
		// A listing that understates a size is caught while receiving.
		lying := NewIndex(Object{Key: "big.yaml", ETag: "x", Size: 10})
		err = c.Download(context.Background(), lying, t.TempDir(), DownloadOptions{MaxObjectSize: 1024})
		if !errors.Is(err, ErrSizeLimit) {
			t.Errorf("understated size: %v", err)
		}
		if err := c.Download(context.Background(), idx, t.TempDir(), DownloadOptions{MaxObjectSize: -1, MaxTotalSize: -1}); err != nil {
			t.Errorf("no limits: %v", err)
		}
	})

	t.Run("missing bucket", func(t *testing.T) {
		c := openClient(t, genericConfig(s, "does-not-exist"))
		_, err := c.Index(context.Background())
		if !errors.Is(err, ErrBucketNotFound) {
			t.Fatalf("err = %v, want ErrBucketNotFound", err)
		}
		want := fmt.Sprintf("bucket 'does-not-exist' at %s does not exist", s.Endpoint())
		if err.Error() != want || ReasonOf(err) != sourcev1.BucketOperationFailedReason || IsStalled(err) {
			t.Errorf("err = %q (reason %s, stalled %v), want %q", err, ReasonOf(err), IsStalled(err), want)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		seedS3(t, s, "private", map[string]string{"a": "a"})
		for name, secret := range map[string]map[string][]byte{
			"wrong secret key": {"accesskey": []byte(s.AccessKey()), "secretkey": []byte("not-the-secret-key")},
			"unknown user":     {"accesskey": []byte("nobody-here"), "secretkey": []byte("not-the-secret-key")},
			"anonymous":        nil,
		} {
			t.Run(name, func(t *testing.T) {
				cfg := genericConfig(s, "private")
				cfg.Options.Secret = secret
				_, err := openClient(t, cfg).Index(context.Background())
				if err == nil {
					t.Fatal("Index succeeded")
				}
				msg := err.Error()
				t.Logf("%s: %s", name, msg)
				if !strings.Contains(msg, "bucket 'private' at "+s.Endpoint()) {
					t.Errorf("error does not name bucket and endpoint: %s", msg)
				}
				if strings.Contains(msg, "not-the-secret-key") || strings.Contains(msg, s.SecretKey()) {
					t.Errorf("error leaks a secret key: %s", msg)
				}
			})
		}
	})

	t.Run("secret without keys", func(t *testing.T) {
		cfg := genericConfig(s, "private")
		cfg.Options.Secret = map[string][]byte{"accesskey": []byte("only-this")}
		_, err := Open(context.Background(), cfg)
		if err == nil || ReasonOf(err) != sourcev1.AuthenticationFailedReason || !strings.Contains(err.Error(), "'secretkey'") {
			t.Errorf("err = %v (reason %s)", err, ReasonOf(err))
		}
	})

	t.Run("plain HTTP endpoint without spec.insecure", func(t *testing.T) {
		seedS3(t, s, "tlsonly", map[string]string{"a": "a"})
		cfg := genericConfig(s, "tlsonly")
		cfg.Options.Insecure = false
		_, err := openClient(t, cfg).Index(context.Background())
		if err == nil {
			t.Fatal("TLS client talked to a plain HTTP server")
		}
		cfg.Options.Endpoint = "http://" + s.Endpoint()
		if _, err := Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "spec.insecure") {
			t.Errorf("http:// endpoint without insecure: %v", err)
		}
		cfg.Options.Insecure = true
		if _, err := openClient(t, cfg).Index(context.Background()); err != nil {
			t.Errorf("http:// endpoint with insecure: %v", err)
		}
	})
}

func TestGenericS3Unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := l.Addr().String()
	l.Close() // nothing listens there now
	cfg := Config{Provider: sourcev1.BucketProviderGeneric}
	cfg.Options.Bucket, cfg.Options.Endpoint, cfg.Options.Insecure = "gone", endpoint, true
	cfg.Options.Secret = map[string][]byte{"accesskey": []byte("AKIDEXAMPLE"), "secretkey": []byte("wJalrXUtnFEMI/K7MDENG")}
	cfg.Options.Timeout = 10 * time.Second
	start := time.Now()
	_, err = openClient(t, cfg).Index(context.Background())
	if err == nil {
		t.Fatal("Index succeeded against a closed port")
	}
	if !strings.Contains(err.Error(), "bucket 'gone' at "+endpoint) || ReasonOf(err) != sourcev1.BucketOperationFailedReason || IsStalled(err) {
		t.Errorf("err = %v (reason %s, stalled %v)", err, ReasonOf(err), IsStalled(err))
	}
	if strings.Contains(err.Error(), "wJalrXUtnFEMI") {
		t.Errorf("error leaks the secret key: %v", err)
	}
	if d := time.Since(start); d > 9*time.Second {
		t.Errorf("took %s to give up on a refused connection", d)
	}
}

func TestGenericS3Timeout(t *testing.T) {
	// A server that accepts connections and never answers: spec.timeout must end the wait.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	cfg := Config{Provider: sourcev1.BucketProviderGeneric}
	cfg.Options.Bucket, cfg.Options.Endpoint, cfg.Options.Insecure = "slow", l.Addr().String(), true
	cfg.Options.Timeout = 500 * time.Millisecond
	start := time.Now()
	_, err = openClient(t, cfg).Index(context.Background())
	if err == nil {
		t.Fatal("Index succeeded against a silent server")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("spec.timeout 500ms, gave up after %s", d)
	}
}
