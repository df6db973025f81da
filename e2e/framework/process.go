package framework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one controller running as a child process of the test, logging to Logs. It
// survives Kill/Restart cycles: the same addresses, storage and log file are reused, and
// PeakRSS and CPUSeconds cover every incarnation.
type Process struct {
	// Name is the controller name, e.g. "source-controller".
	Name string
	// Bin is the executable.
	Bin string
	// Args is the full command line after the executable.
	Args []string
	// Env is the process environment.
	Env []string
	// Logs is the log file; every incarnation appends to it.
	Logs string
	// HealthAddr and MetricsAddr are the loopback host:port of /readyz and /metrics.
	HealthAddr, MetricsAddr string
	// StorageAddr is source-controller's artifact server (empty for other controllers).
	StorageAddr string
	// EventsAddr is notification-controller's event receiver (empty for others).
	EventsAddr string
	// ReceiverAddr is notification-controller's webhook receiver (empty for others).
	ReceiverAddr string

	sampleEvery  time.Duration
	readyTimeout time.Duration

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current incarnation has exited
	starts  int
	deadRSS int64   // max peak RSS of exited incarnations, bytes
	deadCPU float64 // CPU seconds of exited incarnations
	liveRSS int64   // latest VmHWM of the current incarnation
	liveCPU float64 // latest CPU seconds of the current incarnation
	// peakAnon is the largest RssAnon sampled in any incarnation, bytes.
	peakAnon int64
}

// start launches a new incarnation and its resource sampler. It does not wait for /readyz.
func (p *Process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !closed(p.exited) {
		return fmt.Errorf("%s is already running (pid %d)", p.Name, p.cmd.Process.Pid)
	}
	logFile, err := os.OpenFile(p.Logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s log: %w", p.Name, err)
	}
	p.starts++
	fmt.Fprintf(logFile, "# gotk-e2e: start #%d of %s at %s: %s %s\n", p.starts, p.Name,
		time.Now().Format(time.RFC3339Nano), p.Bin, strings.Join(p.Args, " "))
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group, and killed by the kernel if the test process dies first, so a
	// crashed test never leaks controllers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s (%s): %w", p.Name, p.Bin, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.liveRSS, p.liveCPU = cmd, exited, 0, 0
	go p.sample(cmd.Process.Pid, exited)
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		// The kernel's accounting of the finished process is exact, where the sampler may
		// have missed the last interval.
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.deadRSS = max(p.deadRSS, ru.Maxrss*1024, p.liveRSS) // Maxrss is in KiB on Linux
		} else {
			p.deadRSS = max(p.deadRSS, p.liveRSS)
		}
		p.deadCPU += max(cmd.ProcessState.UserTime().Seconds()+cmd.ProcessState.SystemTime().Seconds(), p.liveCPU)
		p.liveRSS, p.liveCPU = 0, 0
		close(exited)
		p.mu.Unlock()
	}()
	return nil
}

// sample records VmHWM and CPU time of pid every sampleEvery until it exits, so the peak of
// an incarnation that is later killed is known even if /proc is gone by then.
func (p *Process) sample(pid int, exited <-chan struct{}) {
	t := time.NewTicker(p.sampleEvery)
	defer t.Stop()
	for {
		p.record(pid, exited)
		select {
		case <-exited:
			return
		case <-t.C:
		}
	}
}

func (p *Process) record(pid int, exited <-chan struct{}) {
	s, err := readProc(pid)
	if err != nil {
		return // exited between ticks; the exit path accounts for it
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if closed(exited) {
		return
	}
	p.liveRSS = max(p.liveRSS, s.HWM)
	p.liveCPU = max(p.liveCPU, s.CPUSeconds)
	p.peakAnon = max(p.peakAnon, s.Anon)
}

// waitReady polls /readyz until it answers 200, the process exits, or the timeout passes.
func (p *Process) waitReady(ctx context.Context) error {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	url := "http://" + p.HealthAddr + "/readyz"
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(p.readyTimeout)
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v; last lines of %s:\n%s", p.Name, p.readyTimeout, last, p.Logs, p.LogTail(20))
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready; last lines of %s:\n%s", p.Name, p.Logs, p.LogTail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// lostPortRace reports whether the current incarnation exited because one of its listen
// addresses was taken.
func (p *Process) lostPortRace() bool {
	return !p.Running() && strings.Contains(p.LogTail(20), "address already in use")
}

// Running reports whether the current incarnation has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !closed(p.exited)
}

// Pid is the process id of the current incarnation (0 before the first start).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Starts counts the incarnations so far.
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Kill sends SIGKILL to the process group and waits for the exit: a crash, no graceful
// shutdown.
func (p *Process) Kill() {
	p.signal(syscall.SIGKILL, 0)
}

// Stop sends SIGTERM, waits up to 10 seconds for a graceful exit, then kills.
func (p *Process) Stop() {
	p.signal(syscall.SIGTERM, 10*time.Second)
}

func (p *Process) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || closed(exited) {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, sig)
	if sig == syscall.SIGKILL {
		<-exited
		return
	}
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// Restart stops the process if it runs (gracefully), starts it again with the same command
// line, and waits until it is ready.
func (p *Process) Restart(ctx context.Context) error {
	p.Stop()
	if err := p.start(); err != nil {
		return err
	}
	return p.waitReady(ctx)
}

// RestartWith restarts the process with flags appended to its command line (later flags
// win), as a Pod restarts when its Deployment's arguments change, and waits until it is
// ready.
func (p *Process) RestartWith(ctx context.Context, flags ...string) error {
	p.Stop()
	p.mu.Lock()
	p.Args = append(append([]string{}, p.Args...), flags...)
	p.mu.Unlock()
	if err := p.start(); err != nil {
		return err
	}
	return p.waitReady(ctx)
}

// PeakRSS is the largest resident set size, in bytes, any incarnation reached: VmHWM of the
// running one (read now and sampled periodically) and the kernel's ru_maxrss of exited ones.
func (p *Process) PeakRSS() int64 {
	p.refresh()
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.deadRSS, p.liveRSS)
}

// PeakAnonRSS is the largest anonymous resident set (RssAnon: heap and stacks, without the
// executable's file-backed pages) seen in any incarnation. It is sampled (every
// Options.SampleInterval and when read), so a spike between samples can be missed.
func (p *Process) PeakAnonRSS() int64 {
	p.refresh()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakAnon
}

// CPUSeconds is the user+system CPU time of every incarnation so far.
func (p *Process) CPUSeconds() float64 {
	p.refresh()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deadCPU + p.liveCPU
}

func (p *Process) refresh() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil && !closed(exited) {
		p.record(cmd.Process.Pid, exited)
	}
}

// LogTail is the last n lines of the log file.
func (p *Process) LogTail(n int) string {
	return tailFile(p.Logs, n)
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(no log)"
	} else if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
