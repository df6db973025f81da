package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gotk.dev/internal/testing/gitserver"
)

// cloneChildEnv makes the test binary clone GOTK_CLONE_URL into GOTK_CLONE_DIR and exit (see
// TestMain): the clone runs alone in its process, so the process's peak RSS is what the
// clone cost.
const cloneChildEnv = "GOTK_CLONE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(cloneChildEnv) != "" {
		limit, _ := strconv.ParseInt(os.Getenv("GOTK_CLONE_MAX"), 10, 64)
		_, err := NewClient(ClientOptions{}).Clone(context.Background(), os.Getenv("GOTK_CLONE_URL"),
			os.Getenv("GOTK_CLONE_DIR"), nil, CheckoutRef{Branch: "main"}, CloneOptions{ShallowIfPossible: true, MaxObjectSize: limit})
		var tooLarge *ObjectTooLargeError
		switch {
		case errors.As(err, &tooLarge):
			fmt.Println(err)
			os.Exit(3)
		case err != nil:
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// cloneChild clones url into dir in a child process with limit and returns its exit code,
// output and peak RSS.
func cloneChild(t *testing.T, url, dir string, limit int64) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cloneChildEnv+"=1", "GOTK_CLONE_URL="+url, "GOTK_CLONE_DIR="+dir,
		"GOTK_CLONE_MAX="+strconv.FormatInt(limit, 10))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	return cmd.ProcessState.ExitCode(), string(out), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
}

// largeBlobSize is bigger than the clone's size limit; buffering it would show in the peak RSS.
const largeBlobSize = 256 << 20

// maxCloneRSS bounds the peak RSS of a clone refusing a largeBlobSize file: well below the
// file, so nothing holds it in memory.
const maxCloneRSS = 64 << 20

// TestCloneRefusesLargeFileWithoutLoadingIt: a repository holding a 256 MiB file is refused
// by a clone with a 32 MiB object limit, in a child process whose peak RSS stays far below the
// file's size; the same repository clones below the limit's reach when the file is small.
func TestCloneRefusesLargeFileWithoutLoadingIt(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("big")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("big").File("app.yaml", "app").ZeroFile("zeros.bin", largeBlobSize).MustDo(t)
	code, out, rss := cloneChild(t, url, filepath.Join(t.TempDir(), "checkout"), 32<<20)
	t.Logf("peak RSS of a clone refusing a %d MiB file: %d MiB (limit %d MiB)", largeBlobSize>>20, rss>>20, maxCloneRSS>>20)
	if code != 3 || !strings.Contains(out, "268435456 bytes, over the size limit of 33554432 bytes") {
		t.Fatalf("exit %d, output %q: want the file refused for its size", code, out)
	}
	if rss > maxCloneRSS {
		t.Errorf("peak RSS %d MiB while refusing a %d MiB file: the clone loaded it", rss>>20, largeBlobSize>>20)
	}

	// Once the file is small, the same repository clones.
	srv.Commit("big").ZeroFile("zeros.bin", 1<<20).MustDo(t)
	code, out, _ = cloneChild(t, url, filepath.Join(t.TempDir(), "checkout"), 32<<20)
	if code != 0 {
		t.Fatalf("exit %d cloning the repository with a 1 MiB file under a 32 MiB limit: %s", code, out)
	}
}

func TestDeltaTargetSize(t *testing.T) {
	// Source size 300 (0xac 0x02), target size 1<<30 (0x80 0x80 0x80 0x80 0x04), then data.
	h := &deltaHeader{}
	if _, err := h.Write([]byte{0xac, 0x02, 0x80, 0x80, 0x80, 0x80, 0x04, 0x90, 0x01}); err != nil {
		t.Fatal(err)
	}
	if got, err := h.targetSize(); err != nil || got != 1<<30 {
		t.Errorf("targetSize = %d, %v; want %d", got, err, 1<<30)
	}
	if _, err := (&deltaHeader{buf: []byte{0x80, 0x80}}).targetSize(); err == nil {
		t.Error("a truncated header was accepted")
	}
}
