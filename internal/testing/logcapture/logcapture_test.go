package logcapture

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestNoSecrets(t *testing.T) {
	var b Buffer
	fmt.Fprintln(&b, `{"level":"info","msg":"before the mark","token":"ghs_early_token_1234"}`)
	m := b.Mark()
	fmt.Fprintln(&b, `{"level":"debug","msg":"reconciling","name":"app"}`)

	r := &recorder{TB: t}
	b.NoSecrets(r, m, []string{`"name":"app"`}, "ghs_early_token_1234")
	if len(r.errors) != 0 {
		t.Fatalf("clean log since the mark reported: %v", r.errors)
	}

	fmt.Fprintln(&b, `{"level":"debug","msg":"got token","token":"ghs_secret_token_5678"}`)
	fmt.Fprintln(&b, `{"level":"debug","msg":"header","auth":"Basic `+base64.StdEncoding.EncodeToString([]byte("hunter2-password"))+`"}`)
	r = &recorder{TB: t}
	b.NoSecrets(r, m, []string{"nothing-like-this"}, "ghs_secret_token_5678", "hunter2-password")
	if len(r.errors) != 3 {
		t.Fatalf("want 3 failures (nothing logged about the object, a token, a base64 password), got %q", r.errors)
	}
	for _, e := range r.errors {
		if strings.Contains(e, "ghs_secret_token_5678") || strings.Contains(e, "hunter2") {
			t.Fatalf("the failure repeats the secret: %s", e)
		}
	}
}
