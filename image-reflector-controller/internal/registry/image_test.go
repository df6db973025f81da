package registry

import (
	"strings"
	"testing"
)

func TestParseImage(t *testing.T) {
	tests := []struct {
		image     string
		insecure  bool
		canonical string
		wantErr   string
	}{
		{image: "nginx", canonical: "index.docker.io/library/nginx"},
		{image: "stefanprodan/podinfo", canonical: "index.docker.io/stefanprodan/podinfo"},
		{image: "docker.io/library/alpine", canonical: "index.docker.io/library/alpine"},
		{image: "ghcr.io/fluxcd/source-controller", canonical: "ghcr.io/fluxcd/source-controller"},
		{image: "127.0.0.1:5000/app", canonical: "127.0.0.1:5000/app"},
		{image: "registry.example.com/team/app", insecure: true, canonical: "registry.example.com/team/app"},
		{image: "  ghcr.io/org/app ", canonical: "ghcr.io/org/app"},
		{image: "", wantErr: "the image is empty"},
		{image: "https://ghcr.io/org/app", wantErr: `remove the scheme "https://"`},
		{image: "ghcr.io/org/app:1.0", wantErr: `names the tag "1.0": give the repository only (ghcr.io/org/app)`},
		{image: "ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), wantErr: "names the digest"},
		{image: "ghcr.io/stefanprodan/podinfo:foo:bar", wantErr: "could not parse reference"},
		{image: "Upper/Case", wantErr: "could not parse reference"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			img, err := ParseImage(tt.image, tt.insecure)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsInvalidImage(err) {
					t.Fatalf("err = %v, want InvalidImageError containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), ".spec.image") {
					t.Fatalf("error does not name the field: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Canonical != tt.canonical || img.String() != tt.canonical {
				t.Fatalf("canonical = %q, want %q", img.Canonical, tt.canonical)
			}
		})
	}
}

func TestParseImageInsecureScheme(t *testing.T) {
	secure, _ := ParseImage("registry.example.com/app", false)
	insecure, _ := ParseImage("registry.example.com/app", true)
	if got := secure.Repository.Registry.Scheme(); got != "https" {
		t.Fatalf("secure scheme = %s", got)
	}
	if got := insecure.Repository.Registry.Scheme(); got != "http" {
		t.Fatalf("insecure scheme = %s", got)
	}
}
