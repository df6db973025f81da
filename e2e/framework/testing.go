package framework

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Setup starts an Env for a test and stops it when the test ends. When the test failed, every
// log (controllers, sshd, etcd, kube-*, kwok) is first copied to a directory that is printed
// (under $GOTK_E2E_LOGS_DIR, else the system temp dir); otherwise everything is removed.
//
// A controller that cannot be compiled fails the test; use SetupOrSkipUnbuilt where a
// controller still being written should skip instead.
func Setup(t testing.TB, opts Options) *Env {
	t.Helper()
	e, err := start(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// SetupOrSkipUnbuilt is Setup, except that a controller `go build` cannot compile skips the
// test (printing the compiler errors) instead of failing it.
func SetupOrSkipUnbuilt(t testing.TB, opts Options) *Env {
	t.Helper()
	e, err := start(t, opts)
	var be *BuildError
	if errors.As(err, &be) {
		t.Skipf("SKIP: %s does not build yet, so this test cannot run it: %v", be.Controller, be)
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func start(t testing.TB, opts Options) (*Env, error) {
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, err := e.StopFailed()
			t.Logf("e2e: logs of every process kept in %s (stop: %v)", logs, err)
			return
		}
		if err := e.Stop(); err != nil {
			t.Logf("e2e: stop: %v", err)
		}
	})
	return e, nil
}
