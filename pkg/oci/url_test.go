package oci

import (
	"strings"
	"testing"

	"gotk.dev/pkg/redact"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "oci://ghcr.io/org/app", want: "ghcr.io/org/app"},
		{in: "oci://127.0.0.1:5000/a/b/c", want: "127.0.0.1:5000/a/b/c"},
		{in: "oci://localhost/app", want: "localhost/app"},
		{in: "oci://docker.io/stefanprodan/podinfo", want: "docker.io/stefanprodan/podinfo"},
		{in: "ghcr.io/org/app", wantErr: "must start with oci://"},
		{in: "https://ghcr.io/org/app", wantErr: "must start with oci://"},
		{in: "OCI://ghcr.io/org/app", wantErr: "must start with oci://"},
		{in: "oci://ghcr.io", wantErr: "want oci://<host>/<repository>"},
		{in: "oci://ghcr.io/", wantErr: "want oci://<host>/<repository>"},
		{in: "oci:///app", wantErr: "want oci://<host>/<repository>"},
		{in: "oci://ghcr.io/org/app:v1", wantErr: "must not include a tag or digest"},
		{in: "oci://ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), wantErr: "must not include a tag or digest"},
		{in: "oci://ghcr.io/Org/App", wantErr: "invalid OCI repository URL"},
		{in: "oci://ghcr.io/org/app/", wantErr: "invalid OCI repository URL"},
		{in: "oci://user:hunter2@ghcr.io/org/app", wantErr: "credentials in the URL are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"oci://u:p@host/repo":            "oci://host/repo",
		"oci://u:p@host":                 "oci://host",
		"u:p@host/repo@sha256:abc":       "host/repo@sha256:abc",
		"oci://host/repo@sha256:abc":     "oci://host/repo@sha256:abc",
		"oci://a@b@host/repo":            "oci://host/repo",
		"https://tok@example.com/x?y=@z": "https://example.com/x?y=@z",
		"oci://host/repo:tag":            "oci://host/repo:tag",
		"":                               "",
		"oci:/u:p@host/repo":             "oci:/host/repo",
		"u:p@host/repo":                  "host/repo",
		"oci:u:p@host/repo":              "host/repo",
	}
	for in, want := range tests {
		if got := redact.URL(in); got != want {
			t.Errorf("redact.URL(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseURL checks that parsing never panics, that accepted URLs round-trip through the
// client's reference parser, and that a password in the URL never reaches an error message.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"oci://ghcr.io/org/app", "oci://127.0.0.1:5000/a", "oci://u:secret@h/r",
		"oci://h/r:t", "oci://h/r@sha256:00", "oci://", "oci://a/b/../c", "oci://[::1]:5000/x"} {
		f.Add(s, "pw")
	}
	c, err := NewClient(ClientOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s, pw string) {
		repo, err := ParseURL(s)
		if err == nil {
			if !strings.HasPrefix(s, "oci://") || strings.HasPrefix(repo, "oci://") {
				t.Fatalf("ParseURL(%q) = %q", s, repo)
			}
			if _, err := c.repository(s); err != nil {
				t.Fatalf("ParseURL accepted %q but the client rejects it: %v", s, err)
			}
			if _, err := c.reference(s + ":tag"); err != nil {
				t.Fatalf("ParseURL accepted %q but %q is no reference: %v", s, s+":tag", err)
			}
		}
		// The same URL with credentials: always refused, never echoed.
		if strings.ContainsAny(pw, "/@") {
			return
		}
		secret := "Secret-" + pw
		rest := s
		if i := strings.Index(s, "://"); i >= 0 {
			rest = s[i+3:]
		}
		for _, prefix := range []string{"oci://", "https://", "oci:/", ""} {
			withCreds := prefix + "user:" + secret + "@" + rest
			if _, err := ParseURL(withCreds); err == nil {
				t.Fatalf("ParseURL(%q) accepted credentials", withCreds)
			} else if strings.Contains(err.Error(), secret) {
				t.Fatalf("error for %q leaks the password: %v", withCreds, err)
			}
			if _, err := c.reference(withCreds); err == nil || strings.Contains(err.Error(), secret) {
				t.Fatalf("reference(%q): %v", withCreds, err)
			}
		}
	})
}
