package images

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/internal/testing/registry"
)

// repoRoot is the directory holding go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.work above the test directory")
		}
		dir = filepath.Dir(dir)
	}
}

// TestBuildPushPullRun builds the source-controller image from the repository, pushes it to a
// real registry (CNCF distribution), pulls it back and runs the binary extracted from it.
func TestBuildPushPullRun(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles source-controller")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	meta := Metadata{Version: "v0.0.0-test", Revision: "deadbeef", Source: "https://example.com/gotk", Created: time.Unix(1700000000, 0).UTC()}
	out := t.TempDir()
	start := time.Now()
	built, err := Build(ctx, Options{Root: repoRoot(t), Out: out, Controllers: []string{"source-controller"}, Metadata: meta, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build took %s", time.Since(start))

	reg, err := registry.Start(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	pushed, err := PushAll(ctx, out, reg.Host()+"/gotk", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pushed) != 1 || pushed[0].Digest != built[0].Digest {
		t.Fatalf("pushed %v, built %v", pushed, built)
	}
	want := reg.Host() + "/gotk/source-controller:v0.0.0-test@" + built[0].Digest.String()
	if pushed[0].String() != want {
		t.Errorf("pushed %s, want %s", pushed[0], want)
	}

	ref, err := name.ParseReference(reg.Host() + "/gotk/source-controller:v0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != built[0].Digest {
		t.Fatalf("pulled %s, pushed %s", d, built[0].Digest)
	}
	checkConfig(t, img, "source-controller", meta)

	dir := t.TempDir()
	extract(t, img, dir)
	hostCerts, err := os.ReadFile(DefaultCACerts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "etc/ssl/certs/ca-certificates.crt")); !bytes.Equal(got, hostCerts) {
		t.Errorf("the image's CA bundle differs from %s", DefaultCACerts)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "usr/local/bin/source-controller"), "--help")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("source-controller --help from the image: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	help := stdout.String() + stderr.String()
	for _, flag := range []string{"--storage-adv-addr", "--events-addr", "--watch-all-namespaces", "--log-level", "--enable-leader-election"} {
		if !strings.Contains(help, flag) {
			t.Errorf("--help does not list %s:\n%s", flag, help)
		}
	}
}

// TestPushErrors: pushing without layouts or to a bad reference fails naming what is wrong.
func TestPushErrors(t *testing.T) {
	ctx := context.Background()
	empty := t.TempDir()
	if _, err := PushAll(ctx, empty, "127.0.0.1:1/x", PushOptions{}); err == nil || !strings.Contains(err.Error(), "make images") {
		t.Errorf("empty output dir: %v", err)
	}
	out := t.TempDir()
	if err := WriteLayout(filepath.Join(out, "source-controller"), fakeImage(t, "source-controller", "bin"), "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := PushAll(ctx, out, "UPPER/Case", PushOptions{}); err == nil || !strings.Contains(err.Error(), "UPPER/Case/source-controller:v1") {
		t.Errorf("bad registry: %v", err)
	}
	if _, err := PushAll(ctx, out, "127.0.0.1:1/x", PushOptions{}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1/x/source-controller:v1") {
		t.Errorf("unreachable registry: %v", err)
	}
}
