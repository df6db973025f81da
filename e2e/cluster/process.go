package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gotk.dev/internal/testing/ports"
)

// process is one control plane binary started by the cluster, logging to its own file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process exits (attached mode only)
	err     error         // exit error, valid after exited is closed
}

// startProcess starts bin with args, logging to <logDir>/<name>.log. Detached processes get
// their own session so they outlive this Go process (dev-up); attached ones are killed by the
// kernel when the test process dies, so a crashed test never leaks a control plane.
func startProcess(name, bin string, args []string, logDir string, detach bool) (*process, error) {
	return startProcessEnv(name, bin, args, nil, logDir, detach)
}

// startProcessEnv is startProcess with extra environment variables (KEY=VALUE).
func startProcessEnv(name, bin string, args, env []string, logDir string, detach bool) (*process, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s binary not found at %s: run `make testbin` to build the local control plane", name, bin)
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// failure describes an early exit with the tail of the process log, the part that says why.
func (p *process) failure() error {
	return fmt.Errorf("%s exited (%v) before it was ready; last lines of %s:\n%s", p.name, p.err, p.logPath, tail(p.logPath, 15))
}

// stop sends SIGTERM and escalates to SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitFor polls check until it succeeds, the process exits, or the timeout passes.
func (p *process) waitFor(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if !p.running() {
			return p.failure()
		}
		if last = check(); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not %s after %s: %v (log: %s)", p.name, what, timeout, last, p.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// portOrFree returns port when it is free, a fresh free port when port is 0, and an error
// naming the port and what to do when it is taken.
func portOrFree(port int, flag string) (int, error) {
	if port == 0 {
		return ports.Free()
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port 127.0.0.1:%d is already in use (another dev cluster? run `make dev-down`), "+
			"or free it (see `ss -ltnp 'sport = :%d'`) or choose another with %s", port, port, flag)
	}
	l.Close()
	return port, nil
}

// pidFile records detached processes so a later `down` can stop them.
type pidFile struct{ path string }

func (f pidFile) write(procs []*process) error {
	var b bytes.Buffer
	for _, p := range procs {
		fmt.Fprintf(&b, "%s %d\n", p.name, p.cmd.Process.Pid)
	}
	return os.WriteFile(f.path, b.Bytes(), 0o644)
}

// killAll stops every recorded process that is still alive, newest first, and returns the
// names it stopped. A missing file means nothing is running, which is not an error.
func (f pidFile) killAll(grace time.Duration) ([]string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	type entry struct {
		name string
		pid  int
	}
	var entries []entry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		entries = append(entries, entry{fields[0], pid})
	}
	var stopped []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !alive(e.pid) {
			continue
		}
		_ = syscall.Kill(e.pid, syscall.SIGTERM)
		deadline := time.Now().Add(grace)
		for alive(e.pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(e.pid) {
			_ = syscall.Kill(e.pid, syscall.SIGKILL)
		}
		stopped = append(stopped, e.name)
	}
	return stopped, nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state is the field after the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// StartDetached starts bin as a long-running process outside any test (make dev-up), logging
// to <logDir>/<name>.log, in its own session so it outlives the caller, and records it in
// dir's pid file so StopDetached(dir) stops it with the cluster.
func StartDetached(dir, name, bin string, args, env []string, logDir string) (int, error) {
	p, err := startProcessEnv(name, bin, args, env, logDir, true)
	if err != nil {
		return 0, err
	}
	if err := (pidFile{filepath.Join(dir, pidFileName)}).append(p); err != nil {
		return 0, err
	}
	return p.cmd.Process.Pid, nil
}

// append adds one process to the pid file.
func (f pidFile) append(p *process) error {
	fh, err := os.OpenFile(f.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer fh.Close()
	_, err = fmt.Fprintf(fh, "%s %d\n", p.name, p.cmd.Process.Pid)
	return err
}
