package app

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/gitserver"
)

// bootstrapLineHook is an io.Writer that keeps everything written and calls hook with every
// complete line as it arrives, so a test can react to progress (answer a prompt).
type bootstrapLineHook struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	hook    func(line string)
}

func (w *bootstrapLineHook) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	var lines []string
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	w.mu.Unlock()
	for _, l := range lines {
		w.hook(l)
	}
	return len(p), nil
}

func (w *bootstrapLineHook) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// runBootstrapInteractive runs flux with a stdin the test types into: onLine sees each stderr
// line and returns what to type next ("" for nothing).
func runBootstrapInteractive(t *testing.T, onLine func(line string) string, args ...string) result {
	t.Helper()
	in, typing := io.Pipe()
	var out bytes.Buffer
	errOut := &bootstrapLineHook{hook: func(line string) {
		if s := onLine(line); s != "" {
			go func() { _, _ = typing.Write([]byte(s)) }()
		}
	}}
	code := Main(args, in, &out, errOut)
	_ = typing.Close()
	t.Logf("flux %s -> %d\n%s", strings.Join(args, " "), code, errOut.String())
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// bootstrapWantsInOrder fails unless every want occurs in got, each after the previous one.
func bootstrapWantsInOrder(t *testing.T, got string, want ...string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("stderr lacks %q after the previous lines:\n%s", w, got)
			return
		}
		rest = rest[i+len(w):]
	}
}

// normalizeBootstrapOutput replaces what changes between runs (ports, hashes, keys) and
// drops the per-controller readiness lines, whose order depends on timing.
func normalizeBootstrapOutput(s string) string {
	s = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(s, "127.0.0.1:PORT")
	s = regexp.MustCompile(`[0-9a-f]{40}`).ReplaceAllString(s, "SHA")
	s = regexp.MustCompile(`(?m)^✔ public key: .*$`).ReplaceAllString(s, "✔ public key: KEY")
	s = regexp.MustCompile(`(?m)^✔ [a-z-]+-controller: deployment ready\n`).ReplaceAllString(s, "")
	return s
}

// bootstrapRepoFileAt reads a file of a branch in a bare repository ("" when the file is missing).
func bootstrapRepoFileAt(t *testing.T, repos *gitserver.Repos, name, branch, path string) string {
	t.Helper()
	repo, err := gogit.PlainOpen(repos.Path(name))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("%s branch %s: %v", name, branch, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	f, err := commit.File(path)
	if err != nil {
		return ""
	}
	s, err := f.Contents()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bootstrapGetObject reads an object of a Flux or built-in kind as unstructured (nil when missing).
func bootstrapGetObject(t *testing.T, c client.Client, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return nil
	}
	return u
}

// startBootstrapSSHAgent runs the OpenSSH agent holding key and returns its socket.
func startBootstrapSSHAgent(t *testing.T, key []byte) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "agent-") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ssh-agent: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent did not create %s: %s", sock, log.String())
		}
	}
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	add := exec.Command("ssh-add", keyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	return sock
}
