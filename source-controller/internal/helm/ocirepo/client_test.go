package ocirepo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	helmreg "helm.sh/helm/v3/pkg/registry"

	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/chart"
	"gotk.dev/source-controller/internal/helm/ocirepo"
	"gotk.dev/source-controller/internal/helm/repository"

	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/pki"
	"gotk.dev/internal/testing/registry"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pushChart pushes a packaged chart to <host>/charts/<name>:<version> as `helm push` does.
func pushChart(t *testing.T, host string, data []byte, opts ...helmreg.ClientOption) {
	t.Helper()
	helmrepo.PushChart(t, host, "charts", data, opts...)
}

func newClient(t *testing.T, opts ocirepo.Options) *ocirepo.Client {
	t.Helper()
	c, err := ocirepo.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func inProcessRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.StartInProcess()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

func TestResolveAndPull(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	pushed := map[string][]byte{}
	for _, v := range []string{"6.0.0", "6.1.0", "6.1.1+build.1", "6.2.0-rc.1"} {
		pushed[v] = helmrepo.Package(t, helmrepo.PodinfoDir(), "", v)
		pushChart(t, reg.Host(), pushed[v], helmreg.ClientOptPlainHTTP())
	}
	c := newClient(t, ocirepo.Options{URL: reg.URL("charts"), Insecure: true})
	ctx := testContext(t)

	cases := []struct {
		version, want, err string
	}{
		{version: "", want: "6.1.1+build.1"},
		{version: "*", want: "6.1.1+build.1"},
		{version: "6.0.x", want: "6.0.0"},
		{version: ">=6.2.0-0", want: "6.2.0-rc.1"},
		{version: "6.1.0", want: "6.1.0"},                 // exact: no tag listing
		{version: "6.1.1+build.1", want: "6.1.1+build.1"}, // exact with build metadata (tag 6.1.1_build.1)
		{version: "7.0.0", err: "no 'podinfo' chart with version matching '7.0.0' found in oci://" + reg.Host() + "/charts/podinfo"},
		{version: "7.x", err: "no 'podinfo' chart with version matching '7.x' found among 4 tags"},
		{version: "not a range!", err: "invalid semver range"},
	}
	for _, tc := range cases {
		cv, err := c.GetChartVersion(ctx, "podinfo", tc.version)
		if tc.err != "" {
			var nf *repository.ChartNotFoundError
			if !errors.As(err, &nf) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("GetChartVersion(%q) error = %v, want a ChartNotFoundError containing %q", tc.version, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("GetChartVersion(%q): %v", tc.version, err)
			continue
		}
		if cv.Version != tc.want || cv.Name != "podinfo" || !strings.HasPrefix(cv.Digest, "sha256:") {
			t.Errorf("GetChartVersion(%q) = %s %s %s, want %s", tc.version, cv.Name, cv.Version, cv.Digest, tc.want)
			continue
		}
		data, err := c.DownloadChart(ctx, cv)
		if err != nil {
			t.Fatalf("download %s: %v", cv.Version, err)
		}
		if !bytes.Equal(data, pushed[tc.want]) {
			t.Errorf("downloaded %s differs from the pushed chart", cv.Version)
		}
	}
	if _, err := c.GetChartVersion(ctx, "nginx", "*"); err == nil || !strings.Contains(err.Error(), "no chart named 'nginx' in oci://") {
		t.Errorf("unknown chart: %v", err)
	}

	// The chart builder uses the OCI client like any repository.
	res, err := chart.ResolveRemote(ctx, c, chart.RemoteReference{Name: "podinfo", Version: "6.0.x"}, chart.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := chart.BuildRemote(ctx, c, res, chart.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Data, pushed["6.0.0"]) || b.Summary() != "pulled 'podinfo' chart with version '6.0.0'" {
		t.Fatalf("build: %s", b.Summary())
	}
	_, err = chart.ResolveRemote(ctx, c, chart.RemoteReference{Name: "podinfo", Version: "9.x"}, chart.BuildOptions{})
	if r, _ := chart.ReasonOf(err); r != chart.ReasonChartReference {
		t.Fatalf("unknown version: %v (reason %q), want InvalidChartReference", err, r.Reason)
	}
}

func TestPullErrors(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	pushChart(t, reg.Host(), helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.0.0"), helmreg.ClientOptPlainHTTP())
	ctx := testContext(t)

	// Without spec.insecure the client insists on HTTPS.
	if _, err := newClient(t, ocirepo.Options{URL: reg.URL("charts")}).GetChartVersion(ctx, "podinfo", "*"); err == nil || !strings.Contains(err.Error(), "set spec.insecure") {
		t.Fatalf("plain HTTP registry without Insecure: %v, want a refusal naming spec.insecure", err)
	}

	c := newClient(t, ocirepo.Options{URL: reg.URL("charts"), Insecure: true, Limits: helm.Limits{MaxChartSize: 1000}})
	cv, err := c.GetChartVersion(ctx, "podinfo", "6.0.0")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DownloadChart(ctx, cv)
	var le *helm.LimitError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "chart 'podinfo' version '6.0.0' exceeds the maximum size of 1000 bytes (--helm-chart-max-size)") {
		t.Fatalf("error = %v", err)
	}

	// A Flux artifact (not a chart) under a chart name.
	fc, err := oci.NewClient(oci.ClientOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	helmrepo.WriteFiles(t, dir, map[string]string{"a.yaml": "x: 1\n"})
	if _, err := fc.Push(ctx, reg.URL("charts/notachart")+":1.0.0", dir, oci.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, ocirepo.Options{URL: reg.URL("charts"), Insecure: true})
	cv, err = c.GetChartVersion(ctx, "notachart", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DownloadChart(ctx, cv); err == nil || !strings.Contains(err.Error(), "is not a Helm chart: config media type") {
		t.Fatalf("error = %v, want a not-a-chart error", err)
	}
}

// TestRealRegistryAuthAndTLS runs against the CNCF distribution registry with htpasswd auth
// and TLS from a generated CA, configured from Secrets as the reconciler does.
func TestRealRegistryAuthAndTLS(t *testing.T) {
	t.Parallel()
	const password = "registry-pa55word"
	reg, err := registry.Start(registry.Options{Users: map[string]string{"helm": password}, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	data := helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.5.0")
	pushChart(t, reg.Host(), data, helmreg.ClientOptBasicAuth("helm", password),
		helmreg.ClientOptHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: reg.TLSConfig()}}))
	ctx := testContext(t)
	spec := &sourcev1.HelmRepositorySpec{URL: reg.URL("charts"), Type: sourcev1.HelmRepositoryTypeOCI}
	certSecret := &repository.SecretData{Name: "registry-ca", Data: map[string][]byte{"ca.crt": reg.CAPEM()}}

	pull := func(auth, cert *repository.SecretData) ([]byte, error) {
		opts, err := ocirepo.OptionsFromSpec(spec, auth, cert, helm.Limits{})
		if err != nil {
			return nil, err
		}
		c := newClient(t, *opts)
		cv, err := c.GetChartVersion(ctx, "podinfo", "6.x")
		if err != nil {
			return nil, err
		}
		return c.DownloadChart(ctx, cv)
	}

	got, err := pull(&repository.SecretData{Name: "creds", Data: map[string][]byte{"username": []byte("helm"), "password": []byte(password)}}, certSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("pulled chart differs from the pushed one")
	}

	dockerConfig := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host(), base64.StdEncoding.EncodeToString([]byte("helm:"+password)))
	if _, err := pull(&repository.SecretData{Name: "dockercfg", Data: map[string][]byte{".dockerconfigjson": []byte(dockerConfig)}}, certSecret); err != nil {
		t.Fatalf("docker config secret: %v", err)
	}

	const wrong = "not-the-password"
	_, err = pull(&repository.SecretData{Name: "creds", Data: map[string][]byte{"username": []byte("helm"), "password": []byte(wrong)}}, certSecret)
	if !ocirepo.IsAuthError(err) || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("wrong password: %v, want an auth error", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
		t.Fatalf("error leaks a password: %v", err)
	}

	_, err = pull(&repository.SecretData{Name: "creds", Data: map[string][]byte{"username": []byte("helm"), "password": []byte(password)}}, nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want a certificate error", err)
	}
}

// TestOCIDependency builds a chart from a source directory whose dependency lives in an OCI
// repository, resolved through the reconciler's callback.
func TestOCIDependency(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	depSrc := helmrepo.WriteChartDir(t, t.TempDir(), "dep", "dep", "1.2.0", nil)
	pushChart(t, reg.Host(), helmrepo.Package(t, depSrc, "", "1.2.0"), helmreg.ClientOptPlainHTTP())
	root := t.TempDir()
	helmrepo.WriteChartDir(t, root, "app", "app", "0.1.0", map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: dep\n  version: ~1.2\n  repository: " + reg.URL("charts") + "/\n",
	})
	var asked []string
	resolve := func(_ context.Context, url string) (chart.Remote, error) {
		asked = append(asked, url)
		return ocirepo.NewClient(ocirepo.Options{URL: url, Insecure: true})
	}
	b, err := chart.BuildLocal(testContext(t), chart.LocalReference{Root: root, Path: "app"}, chart.BuildOptions{}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != reg.URL("charts") {
		t.Fatalf("resolver asked for %v, want the normalised OCI URL", asked)
	}
	c, err := loader.LoadArchive(bytes.NewReader(b.Data))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dependencies()) != 1 || c.Dependencies()[0].Metadata.Version != "1.2.0" {
		t.Fatalf("dependencies = %v", c.Dependencies())
	}
}

func TestOptionsFromSpec(t *testing.T) {
	certs := pki.NewForTest(t)
	cases := []struct {
		name       string
		spec       sourcev1.HelmRepositorySpec
		auth, cert *repository.SecretData
		err        string
		check      func(*ocirepo.Options) bool
	}{
		{name: "anonymous insecure", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts", Insecure: true},
			check: func(o *ocirepo.Options) bool {
				return o.Insecure && o.Username == "" && o.Keychain == nil && o.Timeout == ocirepo.DefaultTimeout
			}},
		{name: "basic auth and CA", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts"},
			auth:  &repository.SecretData{Name: "c", Data: map[string][]byte{"username": []byte("u"), "password": []byte("p")}},
			cert:  &repository.SecretData{Name: "t", Data: map[string][]byte{"ca.crt": certs.CAPEM}},
			check: func(o *ocirepo.Options) bool { return o.Username == "u" && o.TLSConfig != nil }},
		{name: "docker config", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts"},
			auth:  &repository.SecretData{Name: "c", Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"ghcr.io":{"username":"u","password":"p"}}}`)}},
			check: func(o *ocirepo.Options) bool { return o.Keychain != nil }},
		{name: "bad docker config", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts"},
			auth: &repository.SecretData{Name: "c", Data: map[string][]byte{".dockerconfigjson": []byte(`{`)}},
			err:  "invalid secret 'c': key '.dockerconfigjson'"},
		{name: "half basic auth", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts"},
			auth: &repository.SecretData{Name: "c", Data: map[string][]byte{"username": []byte("u")}},
			err:  "invalid secret 'c': key 'password': is missing"},
		{name: "no repository path", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io"}, err: "want oci://<host>/<repository>"},
		{name: "http URL", spec: sourcev1.HelmRepositorySpec{URL: "https://ghcr.io/org/charts"}, err: "must start with oci://"},
		{name: "cloud provider left to the caller", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts", Provider: "aws"},
			check: func(o *ocirepo.Options) bool { return o.Keychain == nil && o.Username == "" }},
		{name: "unknown provider", spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts", Provider: "oracle"}, err: "unknown spec.provider 'oracle'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ocirepo.OptionsFromSpec(&tc.spec, tc.auth, tc.cert, helm.Limits{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Fatalf("options = %+v", o)
			}
		})
	}
}
