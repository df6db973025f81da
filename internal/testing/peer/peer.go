// Package peer runs the real servers tests talk to (the distribution registry, versitygw,
// Azurite, Gitea) as child processes: it finds their binaries, keeps the tail of their output
// for error messages, waits until they answer and stops them.
package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gotk.dev/internal/testing/workspace"
)

// ErrExited marks a process that exited before it answered, typically because the free port
// it was given was taken in the meantime; StartWithRetry tries again on it.
var ErrExited = errors.New("exited before serving")

// Find returns the path of the executable name in binDir or, when binDir is empty, in
// $KUBEBUILDER_ASSETS or bin/ at the repository root. The error names the directories looked
// in and the command (buildHint) that provides the binary.
func Find(binDir, name, buildHint string) (string, error) {
	dirs := []string{binDir}
	if binDir == "" {
		dirs = []string{os.Getenv("KUBEBUILDER_ASSETS")}
		if root, err := workspace.Root(); err == nil {
			dirs = append(dirs, filepath.Join(root, "bin"))
		}
	}
	var looked []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
		looked = append(looked, d)
	}
	return "", fmt.Errorf("%s not found in %s: run `%s` to provide it", name, strings.Join(looked, ", "), buildHint)
}

// StartWithRetry calls start up to three times while it fails with ErrExited: a port picked
// free may be bound by another process before the peer binds it.
func StartWithRetry[T any](start func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range 3 {
		if v, err = start(); err == nil || !errors.Is(err, ErrExited) {
			return v, err
		}
	}
	return v, err
}

// Process is a running peer.
type Process struct {
	cmd    *exec.Cmd
	out    *tail
	exited chan struct{}
	group  bool
}

// Options tune how a process is started and stopped.
type Options struct {
	// Group starts the process in its own process group and signals the whole group, for
	// wrappers (a shell or node script) whose children do the serving.
	Group bool
}

// Start runs cmd with its output captured (the last 64 KiB are kept for Output).
func Start(cmd *exec.Cmd, opts Options) (*Process, error) {
	p := &Process{cmd: cmd, out: &tail{}, exited: make(chan struct{}), group: opts.Group}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if opts.Group {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Output is the tail of what the process printed, for error messages.
func (p *Process) Output() string { return p.out.String() }

// WaitReady calls probe every interval until it returns nil. It returns ErrExited when the
// process exits first, and the probe's last error when timeout passes.
func (p *Process) WaitReady(timeout, interval time.Duration, probe func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		err := probe(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return ErrExited
		case <-ctx.Done():
			return fmt.Errorf("no answer within %s: %w", timeout, err)
		case <-time.After(interval):
		}
	}
}

// Stop asks the process to exit (SIGTERM) and kills it when it has not after grace; a zero
// grace kills it at once. Safe to call more than once.
func (p *Process) Stop(grace time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	if grace > 0 {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			return
		case <-time.After(grace):
		}
	}
	p.signal(syscall.SIGKILL)
	<-p.exited
}

func (p *Process) signal(sig syscall.Signal) {
	if p.group {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
		return
	}
	_ = p.cmd.Process.Signal(sig)
}

// tail collects a process's output (written from os/exec goroutines), keeping the last 64 KiB.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if n := len(t.b); n > 64<<10 {
		t.b = append(t.b[:0], t.b[n-64<<10:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
