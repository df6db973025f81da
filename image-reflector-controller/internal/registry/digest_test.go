package registry

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"gotk.dev/internal/testing/registry"
)

func TestDigest(t *testing.T) {
	t.Parallel()
	const user, pass = "flux", "digest-pass"
	reg := startRegistry(t, registry.Options{Users: map[string]string{user: pass}})
	auth := &authn.Basic{Username: user, Password: pass}
	first := pushTags(t, reg.Host(), "app", auth, "1.0.0", "latest")
	img := mustParse(t, reg.Host()+"/app")
	c := newClient(t, Options{DockerConfigs: [][]byte{dockerConfig(reg.Host(), user, pass)}})

	got, err := c.Digest(testContext(t), img, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if got != first.String() {
		t.Fatalf("digest = %s, want %s", got, first)
	}
	// A moved tag reports its new digest.
	second := pushTags(t, reg.Host(), "app", auth, "latest")
	if got, err = c.Digest(testContext(t), img, "latest"); err != nil || got != second.String() || got == first.String() {
		t.Fatalf("moved tag digest = %s (%v), want %s", got, err, second)
	}
	// A missing tag names the image and tag.
	_, err = c.Digest(testContext(t), img, "9.9.9")
	if err == nil || !strings.Contains(err.Error(), img.Canonical+":9.9.9") {
		t.Fatalf("missing tag: %v", err)
	}
	// Anonymous access is an authentication error.
	_, err = newClient(t, Options{}).Digest(testContext(t), img, "1.0.0")
	if !IsAuthError(err) {
		t.Fatalf("anonymous digest: %v", err)
	}
}
