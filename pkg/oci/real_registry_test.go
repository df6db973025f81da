package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/static"

	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/tarball"
)

// These tests run against the CNCF distribution registry (`make testbin`), the reference
// implementation upstream Flux is tested against.

func TestRealRegistryPushPullSemver(t *testing.T) {
	t.Parallel()
	reg := realRegistry(t, registry.Options{})
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	url := reg.URL("team/app")
	digests := map[string]string{}
	for _, v := range []string{"1.0.0", "1.1.0", "v1.2.0", "2.0.0-rc.1"} {
		d, err := c.Push(ctx, url+":"+v, writeTree(t, map[string]string{"version.txt": v}),
			PushOptions{Source: "https://example.com/app", Revision: v + "@sha1:abc"})
		if err != nil {
			t.Fatal(err)
		}
		digests[v] = d
	}
	res, err := c.ResolveRef(ctx, url, Ref{SemVer: "^1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Resolved{Tag: "v1.2.0", Digest: digests["v1.2.0"]}); res != want {
		t.Fatalf("ResolveRef(^1.0.0) = %+v, want %+v", res, want)
	}
	p, err := c.Pull(ctx, url, res.Digest, LayerSelector{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := p.ExtractTo(out, tarball.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, out); got["version.txt"] != "v1.2.0" || len(got) != 1 {
		t.Errorf("pulled %v, want version.txt = v1.2.0", got)
	}
	if p.Annotations[RevisionAnnotation] != "v1.2.0@sha1:abc" {
		t.Errorf("annotations %v", p.Annotations)
	}

	// A tag moved to a new digest resolves to the new digest on the same Client.
	d1, err := c.Push(ctx, url+":latest", writeTree(t, map[string]string{"f": "old"}), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.ResolveRef(ctx, url, Ref{}); err != nil || res.Digest != d1 {
		t.Fatalf("ResolveRef(latest) = %+v, %v; want %s", res, err, d1)
	}
	d2, err := c.Push(ctx, url+":latest", writeTree(t, map[string]string{"f": "new"}), PushOptions{})
	if err != nil || d2 == d1 {
		t.Fatalf("second push = %s, %v", d2, err)
	}
	res, err = c.ResolveRef(ctx, url, Ref{})
	if err != nil || res != (Resolved{Tag: "latest", Digest: d2}) {
		t.Fatalf("after moving latest: ResolveRef = %+v, %v; want digest %s", res, err, d2)
	}
	info, err := c.PullToDir(ctx, url+":latest", t.TempDir())
	if err != nil || info.Digest != d2 {
		t.Fatalf("PullToDir(latest) = %+v, %v; want digest %s", info, err, d2)
	}

	// Tag and List.
	if _, err := c.Tag(ctx, url+":1.1.0", "stable"); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, a := range list {
		tags = append(tags, a.Tag)
		if a.Tag == "stable" && (a.Digest != digests["1.1.0"] || a.Revision != "1.1.0@sha1:abc") {
			t.Errorf("stable = %+v, want the 1.1.0 artifact", a)
		}
	}
	if want := []string{"1.0.0", "1.1.0", "2.0.0-rc.1", "latest", "stable", "v1.2.0"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("List tags = %v, want %v", tags, want)
	}

	// A plain Helm chart (as `helm push` stores it) pulled with a layer media type.
	chart := tarGz(t, map[string]string{"podinfo/Chart.yaml": "name: podinfo\n"})
	hd := pushImage(t, reg.URL("charts/podinfo")+":6.5.0", "application/vnd.cncf.helm.config.v1+json", nil,
		static.NewLayer(chart, helmChartLayer))
	hp, err := c.Pull(ctx, reg.URL("charts/podinfo"), hd, LayerSelector{MediaType: helmChartLayer, Operation: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(hp.Layer)
	hp.Layer.Close()
	if err != nil || string(b) != string(chart) || hp.LayerSize != int64(len(chart)) {
		t.Errorf("chart layer: %d bytes, %v; want the %d pushed bytes", len(b), err, len(chart))
	}
}

// The manifest must be exactly what upstream `flux push artifact` writes and source-controller
// reads: OCI image manifest, Flux config type with an empty JSON config, one Flux content layer,
// and the created/source/revision annotations.
func TestRealRegistryInteropManifest(t *testing.T) {
	t.Parallel()
	reg := realRegistry(t, registry.Options{})
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	dir := writeTree(t, map[string]string{"app/deploy.yaml": "kind: Deployment\n"})
	digest, err := c.Push(ctx, reg.URL("interop")+":v1", dir, PushOptions{
		Source:      "https://github.com/org/repo.git",
		Revision:    "main@sha1:3b5b0b2bd4bd2d6e5d6b2b6b7f6a1f4c1c0c6b39",
		Annotations: map[string]string{"org.opencontainers.image.description": "demo"},
	})
	if err != nil {
		t.Fatal(err)
	}

	get := func(path, accept string) ([]byte, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+reg.Host()+"/v2/interop/"+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
		}
		return b, resp.Header
	}
	body, hdr := get("manifests/v1", "application/vnd.oci.image.manifest.v1+json")
	if got := hdr.Get("Content-Type"); got != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("Content-Type %q", got)
	}
	sum := sha256.Sum256(body)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != digest {
		t.Errorf("manifest digest %s, Push returned %s", got, digest)
	}

	var m struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(body, &top)
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"annotations", "config", "layers", "mediaType", "schemaVersion"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("manifest fields %v, want %v", keys, want)
	}
	if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("schemaVersion %d mediaType %q", m.SchemaVersion, m.MediaType)
	}
	emptySum := sha256.Sum256([]byte("{}"))
	if m.Config.MediaType != "application/vnd.cncf.flux.config.v1+json" ||
		m.Config.Digest != "sha256:"+hex.EncodeToString(emptySum[:]) || m.Config.Size != 2 {
		t.Errorf("config %+v", m.Config)
	}
	if cfg, _ := get("blobs/"+m.Config.Digest, "*/*"); string(cfg) != "{}" {
		t.Errorf("config blob %q, want {}", cfg)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.cncf.flux.content.v1.tar+gzip" {
		t.Fatalf("layers %+v, want one Flux content layer", m.Layers)
	}
	layer, _ := get("blobs/"+m.Layers[0].Digest, "*/*")
	if int64(len(layer)) != m.Layers[0].Size {
		t.Errorf("layer size %d, manifest says %d", len(layer), m.Layers[0].Size)
	}
	if files := untarGz(t, strings.NewReader(string(layer))); !reflect.DeepEqual(files, map[string]string{"app/deploy.yaml": "kind: Deployment\n"}) {
		t.Errorf("layer files %v", files)
	}
	ann := m.Annotations
	if _, err := time.Parse(time.RFC3339, ann["org.opencontainers.image.created"]); err != nil {
		t.Errorf("created annotation %q is not RFC 3339: %v", ann["org.opencontainers.image.created"], err)
	}
	delete(ann, "org.opencontainers.image.created")
	wantAnn := map[string]string{
		"org.opencontainers.image.source":      "https://github.com/org/repo.git",
		"org.opencontainers.image.revision":    "main@sha1:3b5b0b2bd4bd2d6e5d6b2b6b7f6a1f4c1c0c6b39",
		"org.opencontainers.image.description": "demo",
	}
	if !reflect.DeepEqual(ann, wantAnn) {
		t.Errorf("annotations %v, want %v plus created", ann, wantAnn)
	}
}

func TestRealRegistryAuth(t *testing.T) {
	t.Parallel()
	const user, pass = "flux", "Pa55-w0rd-XyZ"
	reg := realRegistry(t, registry.Options{Users: map[string]string{user: pass}})
	ctx := testContext(t)
	auth := b64(user + ":" + pass)
	tests := []struct {
		name    string
		configs []string
		wantErr string
	}{
		{name: "auth field", configs: []string{`{"auths":{"` + reg.Host() + `":{"auth":"` + auth + `"}}}`}},
		{name: "username/password with scheme", configs: []string{`{"auths":{"http://` + reg.Host() + `/":{"username":"` + user + `","password":"` + pass + `"}}}`}},
		{name: "second Secret", configs: []string{`{"auths":{"other.io":{"auth":"` + b64("x:y") + `"}}}`, `{"auths":{"` + reg.Host() + `":{"auth":"` + auth + `"}}}`}},
		{name: "anonymous", wantErr: "authentication failed"},
		{name: "wrong password", configs: []string{`{"auths":{"` + reg.Host() + `":{"username":"` + user + `","password":"` + pass + `-wrong"}}}`}, wantErr: "authentication failed"},
		{name: "credentials for another registry", configs: []string{`{"auths":{"127.0.0.2:1":{"auth":"` + auth + `"}}}`}, wantErr: "authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([][]byte, len(tt.configs))
			for i, c := range tt.configs {
				data[i] = []byte(c)
			}
			kc, err := KeychainFromDockerConfigs(data...)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, ClientOptions{Keychain: kc})
			url := reg.URL("private/" + repoName(tt.name))
			dir := writeTree(t, map[string]string{"f": tt.name})
			d, pushErr := c.Push(ctx, url+":v1", dir, PushOptions{})
			_, resolveErr := c.ResolveRef(ctx, url, Ref{Tag: "v1"})
			_, listErr := c.List(ctx, url)
			errs := []error{pushErr, resolveErr, listErr}
			if tt.wantErr == "" {
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				p, err := c.Pull(ctx, url, d, LayerSelector{})
				if err != nil {
					t.Fatal(err)
				}
				p.Layer.Close()
				return
			}
			for _, err := range errs {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
					continue
				}
				for _, secret := range []string{pass, auth} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks a credential: %v", err)
					}
				}
			}
		})
	}
}

func TestRealRegistryTLS(t *testing.T) {
	t.Parallel()
	tlsReg := realRegistry(t, registry.Options{TLS: true})
	mtlsReg := realRegistry(t, registry.Options{TLS: true, ClientAuth: true})
	certPEM, keyPEM := mtlsReg.ClientCertPEM()
	tests := []struct {
		name    string
		reg     *registry.Registry
		secret  map[string][]byte
		wantErr string
	}{
		{name: "CA", reg: tlsReg, secret: map[string][]byte{"ca.crt": tlsReg.CAPEM()}},
		{name: "legacy caFile key", reg: tlsReg, secret: map[string][]byte{"caFile": tlsReg.CAPEM()}},
		{name: "untrusted server", reg: tlsReg, wantErr: "certificate"},
		{name: "other CA", reg: tlsReg, secret: map[string][]byte{"ca.crt": mtlsReg.CAPEM()}, wantErr: "certificate"},
		{name: "client certificate", reg: mtlsReg, secret: map[string][]byte{"ca.crt": mtlsReg.CAPEM(), "tls.crt": certPEM, "tls.key": keyPEM}},
		{name: "legacy client keys", reg: mtlsReg, secret: map[string][]byte{"caFile": mtlsReg.CAPEM(), "certFile": certPEM, "keyFile": keyPEM}},
		{name: "client certificate missing", reg: mtlsReg, secret: map[string][]byte{"ca.crt": mtlsReg.CAPEM()}, wantErr: mtlsReg.Host()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			opts := ClientOptions{}
			if tt.secret != nil {
				cfg, err := TLSConfigFromSecret(tt.secret)
				if err != nil {
					t.Fatal(err)
				}
				opts.TLSConfig = cfg
			}
			c := newClient(t, opts)
			url := tt.reg.URL("tls/" + repoName(tt.name))
			d, err := c.Push(ctx, url+":v1", writeTree(t, map[string]string{"f": "x"}), PushOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				t.Logf("error (as users see it): %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res, err := c.ResolveRef(ctx, url, Ref{Tag: "v1"}); err != nil || res.Digest != d {
				t.Fatalf("ResolveRef = %+v, %v; want %s", res, err, d)
			}
		})
	}
}

// repoName turns a test name into a valid repository path component.
func repoName(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(s))
}

// A registry serving a layer whose bytes do not match the manifest digest (bit rot, a
// tampering mirror) must fail the pull, even when the substitute is a valid tarball that
// extracts cleanly.
func TestRealRegistryCorruptLayer(t *testing.T) {
	t.Parallel()
	reg := realRegistry(t, registry.Options{})
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	url := reg.URL("corrupt")
	d, err := c.Push(ctx, url+":v1", writeTree(t, map[string]string{"f.yaml": "good"}), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Pull(ctx, url, d, LayerSelector{})
	if err != nil {
		t.Fatal(err)
	}
	p.Layer.Close()
	hex := strings.TrimPrefix(p.LayerDigest, "sha256:")
	blob := filepath.Join(reg.StorageDir(), "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
	// A valid tarball with other content: extraction succeeds, only the digest can tell.
	evil := tarGz(t, map[string]string{"f.yaml": "evil"})
	if err := os.WriteFile(blob, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = c.Pull(ctx, url, d, LayerSelector{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.ExtractTo(t.TempDir(), tarball.ExtractOptions{})
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("ExtractTo of a corrupted layer: err = %v, want a digest mismatch", err)
	}
	t.Logf("error (as users see it): %v", err)
	if _, err := c.PullToDir(ctx, url+":v1", t.TempDir()); err == nil {
		t.Fatal("PullToDir of a corrupted layer succeeded")
	}
}
