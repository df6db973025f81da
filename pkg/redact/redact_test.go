package redact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain message", "plain message"},
		{"fetch https://user:s3cret@git.example.com/org/repo.git failed", "fetch https://git.example.com/org/repo.git failed"},
		{`remote base "https://x-access-token:ghp_abcdef@github.com/org/base?ref=v1" not found`, `remote base "https://github.com/org/base?ref=v1" not found`},
		{"ssh://git:pw@host:22/repo and http://tok@h/p", "ssh://host:22/repo and http://h/p"},
		{"GET https://acct.blob.core.windows.net/c/o?sv=2020&sig=AbC%2Fdef&se=2030 403", "GET https://acct.blob.core.windows.net/c/o?sv=2020&sig=***&se=2030 403"},
		{"https://s3.example.com/b/k?X-Amz-Credential=AKIA/x&X-Amz-Signature=deadbeef", "https://s3.example.com/b/k?X-Amz-Credential=***&X-Amz-Signature=***"},
		{"oci://user:pw@registry.example.com/app", "oci://registry.example.com/app"},
		{"unable to clone 'https://tok@host/r': 401", "unable to clone 'https://host/r': 401"},
		{"Get \"https://x:y@h/info/refs?service=x\": refused", "Get \"https://h/info/refs?service=x\": refused"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestURL(t *testing.T) {
	if got := URL("https://u:p@example.com/a?token=t0ken&x=1"); got != "https://example.com/a?token=***&x=1" {
		t.Errorf("URL = %q", got)
	}
	if got := URL("not a url ://u:p@x"); strings.Contains(got, "u:p") {
		t.Errorf("URL kept credentials: %q", got)
	}
}

func TestError(t *testing.T) {
	base := fmt.Errorf("dial https://bot:tok3n@git.example.com: %w", context.DeadlineExceeded)
	err := Error(base, "tok3n", "pw")
	if strings.Contains(err.Error(), "tok3n") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Error = %v (Is deadline %t)", err, errors.Is(err, context.DeadlineExceeded))
	}
	if e := Error(errors.New("password hunter2 rejected"), "hunter2"); e.Error() != "password *** rejected" {
		t.Errorf("Error = %q", e)
	}
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x", "a?sig=1&b=2", "", "://@", "x://y@z@w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if String(out) != out {
			t.Errorf("String is not idempotent on %q: %q then %q", s, out, String(out))
		}
		if userinfo.MatchString(out) {
			t.Errorf("String(%q) = %q still holds userinfo", s, out)
		}
	})
}
