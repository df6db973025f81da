package peer

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestFindNamesWhereItLookedAndHowToBuild(t *testing.T) {
	dir := t.TempDir()
	_, err := Find(dir, "no-such-peer", "make testbin")
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "make testbin") {
		t.Fatalf("error %v does not name %s and the build command", err, dir)
	}
}

func TestWaitReadyReportsAnExitedProcess(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "echo bind: address already in use; exit 1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(10*time.Second, 10*time.Millisecond, func(context.Context) error { return errors.New("not yet") })
	if !errors.Is(err, ErrExited) {
		t.Fatalf("WaitReady = %v, want ErrExited", err)
	}
	if !strings.Contains(p.Output(), "address already in use") {
		t.Fatalf("output %q lost", p.Output())
	}
}

func TestStopTerminatesTheProcessGroup(t *testing.T) {
	// The shell's child sleeps; only signalling the group stops it, so Stop returning at all
	// (the shell waits for its child) shows the group was signalled.
	p, err := Start(exec.Command("sh", "-c", "sleep 60 & wait"), Options{Group: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Stop(5 * time.Second); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Stop did not return: the process group was not signalled")
	}
	p.Stop(time.Second) // a second Stop is a no-op
}

func TestStartWithRetryRetriesOnlyExits(t *testing.T) {
	calls := 0
	_, err := StartWithRetry(func() (int, error) { calls++; return 0, ErrExited })
	if calls != 3 || !errors.Is(err, ErrExited) {
		t.Fatalf("calls=%d err=%v, want 3 calls ending in ErrExited", calls, err)
	}
	calls = 0
	_, err = StartWithRetry(func() (int, error) { calls++; return 0, errors.New("bad config") })
	if calls != 1 || err == nil {
		t.Fatalf("calls=%d err=%v, want one call", calls, err)
	}
}
