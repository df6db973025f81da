package app

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// result is one flux invocation's outcome.
type result struct {
	stdout, stderr string
	code           int
}

// runFlux runs flux with args through Main, which builds a fresh command tree, with stdin
// as its input, and captures both streams.
func runFlux(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	var in io.Reader = strings.NewReader(stdin)
	code := Main(args, in, &out, &errOut)
	t.Logf("flux %s -> %d\n%s", strings.Join(args, " "), code, errOut.String())
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// runFluxAt is runFlux with the command's clock pinned to now, for output holding ages.
func runFluxAt(t *testing.T, now time.Time, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(&Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut, Now: func() time.Time { return now }}, args)
	t.Logf("flux %s -> %d\n%s", strings.Join(args, " "), code, errOut.String())
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// wants fails the test for each want missing from got (what names the stream).
func wants(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// netListen listens on a free loopback port.
func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
