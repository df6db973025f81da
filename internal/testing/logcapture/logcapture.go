// Package logcapture keeps what a controller logs in a test, so the test can prove that no
// token, key or password it handed to the controller (through a fake cloud, a Secret, a test
// server) ever reaches the log. Give a *Buffer as the controller's log output
// (manager.Setup.LogOutput) with the most verbose level (--log-level=trace), take a Mark when
// a test starts and check the lines written since with NoSecrets once its reconciles are done.
package logcapture

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
)

// Buffer is a controller's log output, kept whole in memory; safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends log output.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Mark is a position in the log: what was logged before it is not looked at.
type Mark int

// Mark returns the current end of the log.
func (b *Buffer) Mark() Mark {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Mark(b.buf.Len())
}

// Since returns what was logged after m.
func (b *Buffer) Since(m Mark) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf.Bytes()[m:])
}

// Len is the size of the log so far, in bytes.
func (b *Buffer) Len() int { return int(b.Mark()) }

// NoSecrets fails t for each secret (as given, or base64-encoded as in an Authorization
// header or a Secret's data; a secret under 8 bytes is a marker such as a JWT's "eyJ" and is
// looked for as given only) found in the log lines written since m, naming the line with the
// secret masked. It also fails when none of the lines since m mentions each of logged (the
// objects the test reconciled, say): a capture that saw nothing proves nothing.
func (b *Buffer) NoSecrets(t testing.TB, m Mark, logged []string, secrets ...string) {
	t.Helper()
	text := b.Since(m)
	if len(secrets) == 0 {
		t.Errorf("no secrets to look for in the log: the test would prove nothing")
	}
	for _, want := range logged {
		if !strings.Contains(text, want) {
			t.Errorf("the controller logged nothing about %q since the test started (%d bytes): is its log captured at trace level?", want, len(text))
		}
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatalf("an empty secret cannot be looked for")
		}
		forms := []string{s}
		if len(s) >= 8 { // a short one is a marker (a JWT's "eyJ"), not a value to encode
			// Std and URL-safe base64 differ at most in two letters and the padding.
			forms = append(forms, strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(s)), "="), base64.RawURLEncoding.EncodeToString([]byte(s)))
		}
		for _, line := range strings.Split(text, "\n") {
			leaked := false
			for _, form := range forms {
				if strings.Contains(line, form) {
					leaked = true
					line = strings.ReplaceAll(line, form, "<SECRET>")
				}
			}
			if leaked {
				t.Errorf("the controller logged a secret: %s", line)
			}
		}
	}
}
