package registry

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/registry"
)

func TestScanPaginatesAndExcludes(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, registry.Options{})
	var tags []string
	for i := range 23 {
		tags = append(tags, fmt.Sprintf("1.0.%d", i))
	}
	tags = append(tags, "latest", "sha256-abc.sig", "1.0.0-rc.1")
	pushTags(t, reg.Host(), "team/app", nil, tags...)

	c := newClient(t, Options{PageSize: 10})
	img := mustParse(t, reg.Host()+"/team/app")
	res, err := c.Scan(testContext(t), img, ScanOptions{ExclusionList: imagev1.DefaultExclusionList})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 3 {
		t.Errorf("pages = %d, want 3 (26 tags, 10 per page)", res.Pages)
	}
	want := slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return strings.HasSuffix(s, ".sig") })
	slices.Sort(want)
	if !slices.Equal(res.Tags, want) {
		t.Fatalf("tags = %v\nwant %v", res.Tags, want)
	}
	if res.Revision != Revision(want) || !strings.HasPrefix(res.Revision, "sha256:") {
		t.Errorf("revision = %s", res.Revision)
	}
	wantLatest := []string{"latest", "1.0.9", "1.0.8", "1.0.7", "1.0.6", "1.0.5", "1.0.4", "1.0.3", "1.0.22", "1.0.21"}
	if !slices.Equal(res.LatestTags, wantLatest) {
		t.Errorf("latest tags = %v, want %v", res.LatestTags, wantLatest)
	}
	st := res.Status(time.Unix(1700000000, 0))
	if res.Message() != "successful scan, found 25 tags" {
		t.Errorf("message = %q", res.Message())
	}
	if st.TagCount != 25 || st.Revision != res.Revision || len(st.LatestTags) != 10 || st.ScanTime.Unix() != 1700000000 {
		t.Errorf("status = %+v", st)
	}

	// Rescanning an unchanged repository gives the same revision; a new tag changes it.
	again, err := c.Scan(testContext(t), img, ScanOptions{ExclusionList: imagev1.DefaultExclusionList})
	if err != nil {
		t.Fatal(err)
	}
	if again.Revision != res.Revision {
		t.Errorf("unchanged rescan revision %s != %s", again.Revision, res.Revision)
	}
	pushTags(t, reg.Host(), "team/app", nil, "2.0.0")
	changed, err := c.Scan(testContext(t), img, ScanOptions{ExclusionList: imagev1.DefaultExclusionList})
	if err != nil {
		t.Fatal(err)
	}
	if changed.Revision == res.Revision || len(changed.Tags) != 26 {
		t.Errorf("after a new tag: revision %s (was %s), %d tags", changed.Revision, res.Revision, len(changed.Tags))
	}

	// A custom exclusion list replaces the default, and an empty one keeps everything.
	all, err := c.Scan(testContext(t), img, ScanOptions{ExclusionList: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Tags) != 27 {
		t.Errorf("no exclusions: %d tags, want 27", len(all.Tags))
	}
	some, err := c.Scan(testContext(t), img, ScanOptions{ExclusionList: []string{`^1\.0\.1\d$`, "rc"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(some.Tags) != 27-10-1 {
		t.Errorf("custom exclusions: %d tags (%v)", len(some.Tags), some.Tags)
	}
}

func TestScanInvalidExclusion(t *testing.T) {
	c := newClient(t, Options{})
	_, err := c.Scan(testContext(t), mustParse(t, "127.0.0.1:1/app"), ScanOptions{ExclusionList: []string{"ok", "(["}})
	var ie *InvalidExclusionError
	if err == nil || !strings.Contains(err.Error(), ".spec.exclusionList[1]") || !errorsAs(err, &ie) {
		t.Fatalf("err = %v", err)
	}
}

func TestScanAuthentication(t *testing.T) {
	t.Parallel()
	const user, pass = "flux", "s3cret-registry-pass"
	reg := startRegistry(t, registry.Options{Users: map[string]string{user: pass}})
	pushTags(t, reg.Host(), "private/app", &authn.Basic{Username: user, Password: pass}, "1.0.0", "1.1.0")
	img := mustParse(t, reg.Host()+"/private/app")

	tests := []struct {
		name     string
		configs  [][]byte
		wantAuth bool
	}{
		{name: "secretRef", configs: [][]byte{dockerConfig(reg.Host(), user, pass)}},
		// imagePullSecrets of the service account come after secretRef; an unrelated
		// registry's entry in the first one does not hide the second's.
		{name: "service account pull secret", configs: [][]byte{dockerConfig("other.example.com", "x", "y"), dockerConfig(reg.Host(), user, pass)}},
		{name: "anonymous", wantAuth: true},
		{name: "wrong password", configs: [][]byte{dockerConfig(reg.Host(), user, "wrong-password")}, wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Options{DockerConfigs: tt.configs})
			res, err := c.Scan(testContext(t), img, ScanOptions{})
			if tt.wantAuth {
				if err == nil || !IsAuthError(err) {
					t.Fatalf("err = %v, want an authentication error", err)
				}
				if !strings.Contains(err.Error(), img.Canonical) || strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), "wrong-password") {
					t.Fatalf("error must name the image and no secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Tags, []string{"1.0.0", "1.1.0"}) {
				t.Fatalf("tags = %v", res.Tags)
			}
		})
	}
}

func TestScanInvalidDockerConfig(t *testing.T) {
	_, err := NewClient(Options{DockerConfigs: [][]byte{[]byte("{not json")}})
	if err == nil || !strings.Contains(err.Error(), "invalid registry credentials") {
		t.Fatalf("err = %v", err)
	}
}

func TestScanTLS(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, registry.Options{TLS: true, ClientAuth: true})
	img := mustParse(t, reg.Host()+"/secure/app")
	cert, key := reg.ClientCertPEM()
	mtls := newClient(t, Options{CertSecretData: map[string][]byte{"ca.crt": reg.CAPEM(), "tls.crt": cert, "tls.key": key}})
	pushTLS(t, reg.TLSConfig(), reg.Host(), "secure/app", "3.0.0")

	res, err := mtls.Scan(testContext(t), img, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Tags, []string{"3.0.0"}) {
		t.Fatalf("tags = %v", res.Tags)
	}
	// CA only: the registry wants a client certificate.
	caOnly := newClient(t, Options{CertSecretData: map[string][]byte{"ca.crt": reg.CAPEM()}})
	if _, err := caOnly.Scan(testContext(t), img, ScanOptions{}); err == nil || !strings.Contains(err.Error(), img.Canonical) {
		t.Fatalf("scan without client certificate: %v", err)
	}
	// No CA: the server certificate is not trusted.
	if _, err := newClient(t, Options{}).Scan(testContext(t), img, ScanOptions{}); err == nil {
		t.Fatal("scan trusted an unknown CA")
	}
	if _, err := NewClient(Options{CertSecretData: map[string][]byte{"tls.crt": cert}}); err == nil || !strings.Contains(err.Error(), "certSecretRef") {
		t.Fatalf("half a key pair: %v", err)
	}
}

func TestScanThroughProxy(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, registry.Options{})
	pushTags(t, reg.Host(), "proxied/app", nil, "1.0.0")
	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "p", Password: "proxy-pass"})
	img := mustParse(t, reg.Host()+"/proxied/app")

	c := newClient(t, Options{ProxySecretData: map[string][]byte{"address": []byte(proxy.URL()), "username": []byte("p"), "password": []byte("proxy-pass")}})
	if _, err := c.Scan(testContext(t), img, ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	if proxy.Served() == 0 {
		t.Fatal("the scan did not go through the proxy")
	}
	bad := newClient(t, Options{ProxySecretData: map[string][]byte{"address": []byte(proxy.URL()), "username": []byte("p"), "password": []byte("wrong-proxy-pass")}})
	_, err := bad.Scan(testContext(t), img, ScanOptions{})
	if err == nil || strings.Contains(err.Error(), "wrong-proxy-pass") {
		t.Fatalf("scan with a wrong proxy password: %v", err)
	}
	if _, err := NewClient(Options{ProxySecretData: map[string][]byte{"username": []byte("p")}}); err == nil || !strings.Contains(err.Error(), "proxySecretRef") {
		t.Fatalf("proxy secret without address: %v", err)
	}
}

func TestScanUnreachableNamesImage(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	img := mustParse(t, addr+"/gone/app")
	_, err = newClient(t, Options{}).Scan(testContext(t), img, ScanOptions{})
	if err == nil || !strings.Contains(err.Error(), "failed to list tags of "+addr+"/gone/app") {
		t.Fatalf("err = %v", err)
	}
}

func TestScanTimeout(t *testing.T) {
	t.Parallel()
	// A registry that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	img := mustParse(t, ln.Addr().String()+"/slow/app")
	start := time.Now()
	_, err = newClient(t, Options{}).Scan(testContext(t), img, ScanOptions{Timeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), img.Canonical) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("timeout took %s", d)
	}
}
