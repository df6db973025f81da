package registry

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/internal/testing/registry"
)

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startRegistry runs the distribution registry; it fails (never skips) without the binary.
func startRegistry(t testing.TB, opts registry.Options) *registry.Registry {
	t.Helper()
	r, err := registry.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// pushTags writes one random image to host/repo and tags it with every tag; it returns the
// image digest.
func pushTags(t testing.TB, host, repo string, auth authn.Authenticator, tags ...string) v1.Hash {
	t.Helper()
	if auth == nil {
		auth = authn.Anonymous
	}
	return pushImage(t, host+"/"+repo, []remote.Option{remote.WithAuth(auth)}, tags...)
}

// pushTLS pushes like pushTags to a registry that needs tlsConfig.
func pushTLS(t testing.TB, tlsConfig *tls.Config, host, repo string, tags ...string) v1.Hash {
	t.Helper()
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	return pushImage(t, host+"/"+repo, []remote.Option{remote.WithTransport(tr)}, tags...)
}

func pushImage(t testing.TB, repo string, ropts []remote.Option, tags ...string) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for _, tag := range tags {
		ref, err := name.NewTag(repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		// After the first push the blobs exist: each further tag is one manifest PUT.
		if err := pusher.Push(ctx, ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }

// dockerConfig is a .dockerconfigjson granting user:pass on host.
func dockerConfig(host, user, pass string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth))
}

func mustParse(t testing.TB, image string) Image {
	t.Helper()
	img, err := ParseImage(image, false)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func newClient(t testing.TB, opts Options) *Client {
	t.Helper()
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
