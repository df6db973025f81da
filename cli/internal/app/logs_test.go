package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
		want logEntry
	}{
		{"upstream Flux line", `{"level":"info","ts":"2022-01-25T10:43:47.541Z","msg":"done","reconciler kind":"Kustomization","name":"a","namespace":"b"}`,
			true, logEntry{Timestamp: "2022-01-25T10:43:47.541Z", Level: "info", Message: "done", Kind: "Kustomization", Namespace: "b", Name: "a"}},
		{"epoch timestamp and nested object", `{"level":"error","ts":1795255665.8879416,"msg":"failed","error":"boom","controllerKind":"GitRepository","GitRepository":{"name":"x","namespace":"y"}}`,
			true, logEntry{Timestamp: "2026-11-21T10:07:45.887Z", Level: "error", Message: "failed", Error: "boom", Kind: "GitRepository", Namespace: "y", Name: "x"}},
		{"no object", `{"level":"info","ts":"t","msg":"starting manager"}`, true, logEntry{Timestamp: "t", Level: "info", Message: "starting manager"}},
		{"wrong types are ignored", `{"level":7,"ts":[1],"msg":{"a":1},"name":true}`, true, logEntry{Timestamp: "[1]"}},
		{"huge epoch kept as is", `{"ts":1e300}`, true, logEntry{Timestamp: "1e300"}},
		{"not JSON", "panic: runtime error", false, logEntry{}},
		{"framework banner", "# gotk-e2e: start #1", false, logEntry{}},
		{"truncated JSON", `{"level":"info"`, false, logEntry{}},
		{"empty", "", false, logEntry{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseLogLine([]byte(tt.line))
			if ok != tt.ok || got != tt.want {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestLogsFromFile runs flux logs over controller logs: the logs of a real
// kustomize-controller and source-controller run (testdata/logs-*-controller.log, written by
// the e2e framework) and lines in upstream Flux's format.
func TestLogsFromFile(t *testing.T) {
	ks := filepath.Join("testdata", "logs-kustomize-controller.log")
	sc := filepath.Join("testdata", "logs-source-controller.log")
	up := filepath.Join("testdata", "logs-upstream-format.log")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default namespace flux-system", []string{"--from-file", ks, "--from-file", sc},
			"2026-11-21T10:07:45.887Z info Kustomization/flux-system/app - metadata.finalizers: \"finalizers.fluxcd.io\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers\n" +
				"2026-11-21T10:07:45.776Z info GitRepository/flux-system/app - metadata.finalizers: \"finalizers.fluxcd.io\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers\n"},
		{"kind without regard to case", []string{"--from-file", ks, "--from-file", sc, "--kind", "gitrepository"},
			"2026-11-21T10:07:45.776Z info GitRepository/flux-system/app - metadata.finalizers: \"finalizers.fluxcd.io\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers\n"},
		{"all namespaces", []string{"--from-file", up, "-A"},
			"2022-01-25T10:43:47.541Z info Kustomization/flux-system/flux-system - Reconciliation finished in 1.2s, next run in 10m0s\n" +
				"2022-01-25T10:44:01.002Z error Kustomization/apps/apps - Reconciliation failed after 0.5s, next try in 2m0s: kustomize build failed: accumulating resources\n" +
				"2022-01-25T10:44:02.000Z debug GitRepository/flux-system/podinfo - fetching artifact\n"},
		{"level", []string{"--from-file", up, "-A", "--level", "error"},
			"2022-01-25T10:44:01.002Z error Kustomization/apps/apps - Reconciliation failed after 0.5s, next try in 2m0s: kustomize build failed: accumulating resources\n"},
		{"namespace", []string{"--from-file", up, "-n", "apps"},
			"2022-01-25T10:44:01.002Z error Kustomization/apps/apps - Reconciliation failed after 0.5s, next try in 2m0s: kustomize build failed: accumulating resources\n"},
		{"name", []string{"--from-file", up, "--name", "podinfo"},
			"2022-01-25T10:44:02.000Z debug GitRepository/flux-system/podinfo - fetching artifact\n"},
		{"name and kind that do not meet", []string{"--from-file", up, "--name", "podinfo", "--kind", "Kustomization"}, ""},
		{"since time", []string{"--from-file", up, "-A", "--since-time", "2022-01-25T10:44:00Z"},
			"2022-01-25T10:44:01.002Z error Kustomization/apps/apps - Reconciliation failed after 0.5s, next try in 2m0s: kustomize build failed: accumulating resources\n" +
				"2022-01-25T10:44:02.000Z debug GitRepository/flux-system/podinfo - fetching artifact\n"},
		{"tail counts lines before filtering", []string{"--from-file", up, "-A", "--tail", "3"},
			"2022-01-25T10:44:02.000Z debug GitRepository/flux-system/podinfo - fetching artifact\n"},
		{"tail 0", []string{"--from-file", up, "-A", "--tail", "0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlux(t, "", append([]string{"logs", missingKubeconfig(t)}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if r.stdout != tt.want {
				t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, tt.want)
			}
		})
	}
}

func TestLogsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--level", "warn"}, `invalid --level "warn"`},
		{[]string{"--since", "1m", "--since-time", "2024-01-01T00:00:00Z"}, "at most one of --since or --since-time"},
		{[]string{"--since-time", "yesterday"}, "--since-time=yesterday: want an RFC3339 time"},
		{[]string{"--from-file", "testdata/no-such.log"}, "no-such.log"},
		{nil, "no Kubernetes cluster configured"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r := runFlux(t, "", append([]string{"logs", missingKubeconfig(t)}, tt.args...)...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			wants(t, "stderr", r.stderr, tt.want)
		})
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startFlux runs flux in the background until ctx ends; wait returns its error.
func startFlux(ctx context.Context, args ...string) (out, errOut *syncBuffer, wait func() error) {
	out, errOut = &syncBuffer{}, &syncBuffer{}
	cmd := NewRootCommand(&Streams{In: strings.NewReader(""), Out: out, Err: errOut})
	cmd.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	return out, errOut, func() error { return <-done }
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestLogsFollowFile: with --follow, lines appended to a log file after the start are
// printed, and the command ends cleanly when cancelled.
func TestLogsFollowFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kc.log")
	line := func(msg string) string {
		return `{"level":"info","ts":"2024-01-01T00:00:00.000Z","msg":"` + msg + `","controllerKind":"Kustomization","name":"app","namespace":"flux-system"}` + "\n"
	}
	if err := os.WriteFile(path, []byte(line("old")+line("before")), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, _, wait := startFlux(ctx, "logs", "--follow", "--tail=1", "--from-file", path, missingKubeconfig(t))
	waitFor(t, "the tail", func() bool { return strings.Contains(out.String(), "- before\n") })
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A line written in two parts is printed once, whole.
	l := line("appended")
	_, _ = f.WriteString(l[:20])
	time.Sleep(2 * followPoll)
	_, _ = f.WriteString(l[20:])
	f.Close()
	waitFor(t, "the appended line", func() bool { return strings.Contains(out.String(), "- appended\n") })
	cancel()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	want := "2024-01-01T00:00:00.000Z info Kustomization/flux-system/app - before\n2024-01-01T00:00:00.000Z info Kustomization/flux-system/app - appended\n"
	if got := out.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// FuzzParseLogLine: any line parses or is skipped without panicking, and what parses
// formats as exactly one output record.
func FuzzParseLogLine(f *testing.F) {
	for _, p := range []string{"testdata/logs-upstream-format.log", "testdata/logs-kustomize-controller.log"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f.Add([]byte(l))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, ok := parseLogLine(line)
		if !ok {
			return
		}
		s := e.format()
		if !strings.HasSuffix(s, "\n") || !strings.Contains(s, " - ") {
			t.Fatalf("bad record %q", s)
		}
		_ = (logFilter{Since: time.Now()}).match(e)
	})
}
