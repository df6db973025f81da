package oci

import (
	"crypto/tls"
	"io"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"gotk.dev/pkg/tarball"
)

const helmChartLayer = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// pushImage writes a fixture artifact the way other tools do (go-containerregistry's mutate,
// as upstream Flux and Helm build theirs) and returns its digest.
func pushImage(t *testing.T, ref, configType string, ann map[string]string, layers ...v1.Layer) string {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(configType))
	for _, l := range layers {
		var err error
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l}); err != nil {
			t.Fatal(err)
		}
	}
	if ann != nil {
		img = mutate.Annotations(img, ann).(v1.Image)
	}
	r, err := name.ParseReference(strings.TrimPrefix(ref, "oci://"))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

func TestPushPullRoundTrip(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{UserAgent: "gotk-test"})
	ctx := testContext(t)
	dir := writeTree(t, map[string]string{
		"deploy/app.yaml":     "kind: Deployment\n",
		"deploy/svc.yaml":     "kind: Service\n",
		"kustomization.yaml":  "resources: [deploy]\n",
		"secret/ignored.yaml": "nope\n",
	})
	ignore := func(rel string, d fs.DirEntry) bool { return rel != "secret" }
	opts := PushOptions{
		Source:      "https://github.com/org/repo",
		Revision:    "main@sha1:0123456789abcdef0123456789abcdef01234567",
		Annotations: map[string]string{"com.example/team": "platform"},
		Ignore:      ignore,
		Created:     created,
	}
	url := reg.URL("org/manifests")
	digest, err := c.Push(ctx, url+":v1", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Deterministic: the same tree and metadata give the same digest.
	again, err := c.Push(ctx, url+":v1-again", dir, opts)
	if err != nil || again != digest {
		t.Fatalf("second push = %s, %v; want the same digest %s", again, err, digest)
	}

	res, err := c.ResolveRef(ctx, url, Ref{Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Resolved{Tag: "v1", Digest: digest}) {
		t.Fatalf("ResolveRef = %+v, want tag v1 digest %s", res, digest)
	}
	if got, want := res.Revision(), "v1@"+digest; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}

	p, err := c.Pull(ctx, url, res.Digest, LayerSelector{})
	if err != nil {
		t.Fatal(err)
	}
	wantAnn := map[string]string{
		"com.example/team": "platform",
		SourceAnnotation:   opts.Source,
		RevisionAnnotation: opts.Revision,
		CreatedAnnotation:  "2026-01-02T03:04:05Z",
	}
	if !reflect.DeepEqual(p.Annotations, wantAnn) {
		t.Errorf("annotations = %v, want %v", p.Annotations, wantAnn)
	}
	if p.LayerMediaType != ContentMediaType || p.Operation != LayerExtract || p.Digest != digest {
		t.Errorf("Pulled = %+v", p)
	}
	out := t.TempDir()
	if err := p.ExtractTo(out, tarball.ExtractOptions{MaxSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"deploy/app.yaml":    "kind: Deployment\n",
		"deploy/svc.yaml":    "kind: Service\n",
		"kustomization.yaml": "resources: [deploy]\n",
	}
	if got := readTree(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("extracted %v, want %v", got, want)
	}
}

func TestPushSingleFile(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	dir := writeTree(t, map[string]string{"a.yaml": "a", "b.yaml": "b"})
	d, err := c.Push(ctx, reg.URL("single")+":latest", dir+"/b.yaml", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Pull(ctx, reg.URL("single"), d, LayerSelector{Operation: "copy"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Layer.Close()
	if got := untarGz(t, p.Layer); !reflect.DeepEqual(got, map[string]string{"b.yaml": "b"}) {
		t.Errorf("layer holds %v, want only b.yaml", got)
	}
	if _, ok := p.Annotations[CreatedAnnotation]; !ok {
		t.Errorf("no created annotation: %v", p.Annotations)
	}
}

func TestPushErrors(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	dir := writeTree(t, map[string]string{"a": "a"})
	tests := []struct{ ref, path, wantErr string }{
		{ref: reg.URL("x") + "@sha256:" + strings.Repeat("0", 64), path: dir, wantErr: "must be a tag"},
		{ref: "https://" + reg.Host() + "/x:v1", path: dir, wantErr: "must start with oci://"},
		{ref: reg.URL("x") + ":v1", path: dir + "/missing", wantErr: "pack " + dir + "/missing"},
		{ref: reg.URL("X") + ":v1", path: dir, wantErr: "invalid OCI artifact URL"},
	}
	for _, tt := range tests {
		if _, err := c.Push(ctx, tt.ref, tt.path, PushOptions{}); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Push(%s, %s) error = %v, want %q", tt.ref, tt.path, err, tt.wantErr)
		}
	}
}

func TestResolveRef(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	url := reg.URL("app")
	digests := map[string]string{}
	for i, tag := range []string{"latest", "1.0.0", "v1.1.0", "2.0.0-rc.1", "dev"} {
		dir := writeTree(t, map[string]string{"v": tag})
		d, err := c.Push(ctx, url+":"+tag, dir, PushOptions{Created: created.Add(time.Duration(i))})
		if err != nil {
			t.Fatal(err)
		}
		digests[tag] = d
	}
	pin := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		ref     Ref
		want    Resolved
		wantErr string
	}{
		{name: "default latest", ref: Ref{}, want: Resolved{Tag: "latest", Digest: digests["latest"]}},
		{name: "tag", ref: Ref{Tag: "1.0.0"}, want: Resolved{Tag: "1.0.0", Digest: digests["1.0.0"]}},
		{name: "semver", ref: Ref{SemVer: ">=1.0.0"}, want: Resolved{Tag: "v1.1.0", Digest: digests["v1.1.0"]}},
		{name: "semver pre-release", ref: Ref{SemVer: ">=2.0.0-0"}, want: Resolved{Tag: "2.0.0-rc.1", Digest: digests["2.0.0-rc.1"]}},
		{name: "semver filter", ref: Ref{SemVer: "*", SemverFilter: `^\d`}, want: Resolved{Tag: "1.0.0", Digest: digests["1.0.0"]}},
		{name: "semver wins over tag", ref: Ref{SemVer: "1.0.x", Tag: "dev"}, want: Resolved{Tag: "1.0.0", Digest: digests["1.0.0"]}},
		{name: "digest wins over everything", ref: Ref{Digest: pin, SemVer: "*", Tag: "dev"}, want: Resolved{Digest: pin}},
		{name: "missing tag", ref: Ref{Tag: "nope"}, wantErr: `resolve tag "nope" of ` + url},
		{name: "no semver match", ref: Ref{SemVer: ">=3"}, wantErr: url + `: no tag among 5 matches semver range ">=3"`},
		{name: "bad digest", ref: Ref{Digest: "sha256:xyz"}, wantErr: `invalid digest "sha256:xyz"`},
		{name: "bad tag", ref: Ref{Tag: "a/b"}, wantErr: `invalid tag "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ResolveRef(ctx, url, tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveRef = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	t.Run("missing tag is NotFound", func(t *testing.T) {
		_, err := c.ResolveRef(ctx, url, Ref{Tag: "nope"})
		if !IsNotFound(err) {
			t.Fatalf("IsNotFound(%v) = false", err)
		}
		if _, err := c.ResolveRef(ctx, url, Ref{Tag: "latest"}); IsNotFound(err) {
			t.Fatal("IsNotFound(nil) = true")
		}
	})
	t.Run("missing repository", func(t *testing.T) {
		_, err := c.ResolveRef(ctx, reg.URL("nope"), Ref{SemVer: "*"})
		if err == nil || !strings.Contains(err.Error(), "list tags of "+reg.URL("nope")) {
			t.Fatalf("err = %v", err)
		}
	})
}

// An unchanged tag must cost one request once the Client knows the registry, and a moved tag
// must resolve to the new digest (no caching of tag -> digest).
func TestResolveRefCost(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	ctr := newCountingTransport()
	c := newClient(t, ClientOptions{Transport: ctr, UserAgent: "gotk-source-controller/1.0"})
	ctx := testContext(t)
	url := reg.URL("cost")
	d1, err := c.Push(ctx, url+":latest", writeTree(t, map[string]string{"f": "1"}), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResolveRef(ctx, url, Ref{}); err != nil {
		t.Fatal(err)
	}
	ctr.reset()
	res, err := c.ResolveRef(ctx, url, Ref{})
	if err != nil || res.Digest != d1 {
		t.Fatalf("ResolveRef = %+v, %v; want %s", res, err, d1)
	}
	if got := ctr.reset(); !reflect.DeepEqual(got, map[string]int{http.MethodHead: 1}) {
		t.Errorf("requests for an unchanged tag: %v, want one HEAD", got)
	}

	d2, err := c.Push(ctx, url+":latest", writeTree(t, map[string]string{"f": "2"}), PushOptions{})
	if err != nil || d2 == d1 {
		t.Fatalf("push = %s, %v; want a new digest", d2, err)
	}
	ctr.reset()
	res, err = c.ResolveRef(ctx, url, Ref{})
	if err != nil || res.Digest != d2 {
		t.Fatalf("after moving the tag: ResolveRef = %+v, %v; want %s", res, err, d2)
	}
	if _, err := c.ResolveRef(ctx, url, Ref{Digest: d1}); err != nil {
		t.Fatal(err)
	}
	if got := ctr.reset(); got[http.MethodHead] != 1 || len(got) != 1 {
		t.Errorf("requests: %v, want one HEAD for the tag and none for the digest", got)
	}
	if len(ctr.ua) == 0 {
		t.Error("no User-Agent recorded")
	}
	for ua := range ctr.ua {
		if !strings.HasPrefix(ua, "gotk-source-controller/1.0") {
			t.Errorf("request with User-Agent %q, want gotk-source-controller/1.0", ua)
		}
	}
}

func TestPullLayerSelection(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	chart := tarGz(t, map[string]string{"podinfo/Chart.yaml": "name: podinfo\n"})
	flux := tarGz(t, map[string]string{"app.yaml": "kind: ConfigMap\n"})
	helm := pushImage(t, reg.URL("charts/podinfo")+":6.0.0", "application/vnd.cncf.helm.config.v1+json", nil,
		static.NewLayer(chart, helmChartLayer),
		static.NewLayer([]byte("prov"), "application/vnd.cncf.helm.chart.provenance.v1.prov"))
	// Like upstream `flux push artifact`, with the Flux layer not first.
	mixed := pushImage(t, reg.URL("mixed")+":latest", ConfigMediaType,
		map[string]string{SourceAnnotation: "src"},
		static.NewLayer([]byte("other"), "application/vnd.example.other"),
		static.NewLayer(flux, ContentMediaType))

	tests := []struct {
		name, url, digest string
		sel               LayerSelector
		wantType          string
		wantFiles         map[string]string
		wantErr           string
	}{
		{name: "helm chart by media type", url: reg.URL("charts/podinfo"), digest: helm,
			sel: LayerSelector{MediaType: helmChartLayer}, wantType: helmChartLayer,
			wantFiles: map[string]string{"podinfo/Chart.yaml": "name: podinfo\n"}},
		{name: "no Flux layer: the first layer", url: reg.URL("charts/podinfo"), digest: helm,
			wantType: helmChartLayer, wantFiles: map[string]string{"podinfo/Chart.yaml": "name: podinfo\n"}},
		{name: "Flux layer preferred by default", url: reg.URL("mixed"), digest: mixed,
			wantType: ContentMediaType, wantFiles: map[string]string{"app.yaml": "kind: ConfigMap\n"}},
		{name: "copy", url: reg.URL("mixed"), digest: mixed, sel: LayerSelector{Operation: "copy"},
			wantType: ContentMediaType, wantFiles: map[string]string{"app.yaml": "kind: ConfigMap\n"}},
		{name: "missing media type", url: reg.URL("mixed"), digest: mixed, sel: LayerSelector{MediaType: helmChartLayer},
			wantErr: `no layer with media type "` + helmChartLayer + `" (the artifact has: application/vnd.example.other, ` + ContentMediaType + `)`},
		{name: "bad operation", url: reg.URL("mixed"), digest: mixed, sel: LayerSelector{Operation: "unpack"},
			wantErr: `invalid layer operation "unpack"`},
		{name: "unknown digest", url: reg.URL("mixed"), digest: "sha256:" + strings.Repeat("0", 64),
			wantErr: "fetch manifest " + reg.URL("mixed") + "@sha256:0000"},
		{name: "bad digest", url: reg.URL("mixed"), digest: "latest", wantErr: `invalid digest "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.Pull(ctx, tt.url, tt.digest, tt.sel)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Layer.Close()
			if p.LayerMediaType != tt.wantType {
				t.Errorf("layer media type %q, want %q", p.LayerMediaType, tt.wantType)
			}
			if got := untarGz(t, p.Layer); !reflect.DeepEqual(got, tt.wantFiles) {
				t.Errorf("layer holds %v, want %v", got, tt.wantFiles)
			}
		})
	}
}

func TestPullRejectsIndex(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: img})
	ref, _ := name.ParseReference(reg.Host() + "/multi:latest")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	res, err := c.ResolveRef(ctx, reg.URL("multi"), Ref{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(ctx, reg.URL("multi"), res.Digest, LayerSelector{}); err == nil || !strings.Contains(err.Error(), "is an image index") {
		t.Fatalf("err = %v, want an image index error", err)
	}
}

func TestTagListPullToDir(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	c := newClient(t, ClientOptions{})
	ctx := testContext(t)
	url := reg.URL("org/app")
	d1, err := c.Push(ctx, url+":1.0.0", writeTree(t, map[string]string{"a.yaml": "one"}),
		PushOptions{Source: "git@github.com:org/app", Revision: "v1@sha1:aaaa", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := c.Push(ctx, url+":2.0.0", writeTree(t, map[string]string{"a.yaml": "two"}),
		PushOptions{Source: "git@github.com:org/app", Revision: "v2@sha1:bbbb", Created: created.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Tag(ctx, url+":2.0.0", "stable"); err != nil || got != d2 {
		t.Fatalf("Tag = %s, %v; want %s", got, err, d2)
	}
	if got, err := c.Tag(ctx, url+"@"+d1, "old"); err != nil || got != d1 {
		t.Fatalf("Tag by digest = %s, %v; want %s", got, err, d1)
	}
	if _, err := c.Tag(ctx, url+":missing", "x"); err == nil || !strings.Contains(err.Error(), "fetch manifest "+url+":missing") {
		t.Fatalf("Tag of a missing tag: err = %v", err)
	}
	if _, err := c.Tag(ctx, url+":1.0.0", "bad/tag"); err == nil || !strings.Contains(err.Error(), `invalid tag "bad/tag"`) {
		t.Fatalf("Tag with a bad tag: err = %v", err)
	}

	list, err := c.List(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	v1Info := ArtifactInfo{Tag: "1.0.0", Digest: d1, Source: "git@github.com:org/app", Revision: "v1@sha1:aaaa", Created: "2026-01-02T03:04:05Z"}
	v2Info := ArtifactInfo{Tag: "2.0.0", Digest: d2, Source: "git@github.com:org/app", Revision: "v2@sha1:bbbb", Created: "2026-01-02T04:04:05Z"}
	oldInfo, stableInfo := v1Info, v2Info
	oldInfo.Tag, stableInfo.Tag = "old", "stable"
	if want := []ArtifactInfo{v1Info, v2Info, oldInfo, stableInfo}; !reflect.DeepEqual(list, want) {
		t.Errorf("List =\n%+v\nwant\n%+v", list, want)
	}
	if _, err := c.List(ctx, reg.URL("nothing")); err == nil || !strings.Contains(err.Error(), "list tags of "+reg.URL("nothing")) {
		t.Errorf("List of a missing repository: err = %v", err)
	}

	for _, tt := range []struct {
		ref  string
		want ArtifactInfo
		file string
	}{
		{ref: url + ":stable", want: stableInfo, file: "two"},
		{ref: url + "@" + d1, want: ArtifactInfo{Digest: d1, Source: v1Info.Source, Revision: v1Info.Revision, Created: v1Info.Created}, file: "one"},
	} {
		dir := t.TempDir()
		info, err := c.PullToDir(ctx, tt.ref, dir)
		if err != nil {
			t.Fatal(err)
		}
		if info != tt.want {
			t.Errorf("PullToDir(%s) = %+v, want %+v", tt.ref, info, tt.want)
		}
		if got := readTree(t, dir); !reflect.DeepEqual(got, map[string]string{"a.yaml": tt.file}) {
			t.Errorf("PullToDir(%s) wrote %v", tt.ref, got)
		}
	}
}

func TestRevision(t *testing.T) {
	t.Parallel()
	d := "sha256:" + strings.Repeat("f", 64)
	if got := Revision("latest", d); got != "latest@"+d {
		t.Errorf("Revision(latest) = %q", got)
	}
	if got := Revision("", d); got != d {
		t.Errorf("Revision(\"\") = %q", got)
	}
	if got := (Resolved{Digest: d}).Revision(); got != d {
		t.Errorf("Resolved.Revision() = %q", got)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewClientTransport(t *testing.T) {
	t.Parallel()
	custom := roundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, io.EOF })
	if _, err := NewClient(ClientOptions{Transport: custom, TLSConfig: &tls.Config{}}); err == nil {
		t.Error("TLSConfig with a non-*http.Transport: want an error")
	}
	if _, err := NewClient(ClientOptions{Transport: custom}); err != nil {
		t.Errorf("custom transport alone: %v", err)
	}
	base := &http.Transport{}
	if _, err := NewClient(ClientOptions{Transport: base, TLSConfig: &tls.Config{ServerName: "x"}}); err != nil {
		t.Fatal(err)
	}
	// (Clone itself may give base a TLS config for HTTP/2; ours must not leak into it.)
	if base.TLSClientConfig != nil && base.TLSClientConfig.ServerName != "" {
		t.Error("NewClient modified the caller's transport")
	}
}
