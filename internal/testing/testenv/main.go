package testenv

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Main is a package's TestMain: it starts an API server, stores it in *env, runs the tests
// and stops the server. Fuzz workers get no server (fuzz targets never need one).
func Main(m *testing.M, env **Env, opts Options) {
	MainFunc(m, opts, func(e *Env, _ func(func())) error {
		*env = e
		return nil
	})
}

// MainFunc is Main for suites that set up more around the server (a controller manager,
// peers): setup runs once the server is up and registers what undoes it with cleanup; the
// cleanups run after the tests (or after a failed setup), last registered first.
func MainFunc(m *testing.M, opts Options, setup func(env *Env, cleanup func(func())) error) {
	flag.Parse()
	if Fuzzing() {
		os.Exit(m.Run())
	}
	os.Exit(run(m, opts, setup))
}

func run(m *testing.M, opts Options, setup func(*Env, func(func())) error) int {
	env, err := Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop testenv:", err)
		}
	}()
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	if err := setup(env, func(f func()) { cleanups = append(cleanups, f) }); err != nil {
		fmt.Fprintln(os.Stderr, "test suite setup:", err)
		return 1
	}
	return m.Run()
}

// Fuzzing reports whether the test binary runs a fuzz target (go test -fuzz) or is one of
// its workers.
func Fuzzing() bool {
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return true
	}
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

// Lazy is an API server started by the first test that asks for one, for packages where
// most tests need none (unit and fuzz tests). Stop it from TestMain after m.Run.
type Lazy struct {
	Options Options
	// Setup, when set, runs once the server is up (start a stand-in kubelet, install
	// CRDs); the function it returns runs before the server stops.
	Setup   func(env *Env) (cleanup func(), err error)
	once    sync.Once
	env     *Env
	cleanup func()
	err     error
}

// Get returns the server, starting it on first use; a start failure fails tb.
func (l *Lazy) Get(tb testing.TB) *Env {
	tb.Helper()
	l.once.Do(func() {
		if l.env, l.err = Start(l.Options); l.err != nil || l.Setup == nil {
			return
		}
		if l.cleanup, l.err = l.Setup(l.env); l.err != nil {
			l.err = fmt.Errorf("test server setup: %w", l.err)
		}
	})
	if l.err != nil {
		tb.Fatal(l.err)
	}
	return l.env
}

// Stop stops the server if it was started.
func (l *Lazy) Stop() {
	if l.cleanup != nil {
		l.cleanup()
	}
	if l.env != nil {
		if err := l.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop testenv:", err)
		}
	}
}

// MainLazy is the TestMain of a package using l: it runs the tests and stops l's server if
// a test started it.
func MainLazy(m *testing.M, l *Lazy) {
	flag.Parse()
	code := m.Run()
	l.Stop()
	os.Exit(code)
}
