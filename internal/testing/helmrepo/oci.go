package helmrepo

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	helmreg "helm.sh/helm/v3/pkg/registry"
)

// PushChart pushes a packaged chart to <host>/<repo>/<name>:<version> with helm's own
// registry client, as `helm push data oci://<host>/<repo>` does, and returns the reference.
// opts add credentials (helmreg.ClientOptBasicAuth) or a TLS client
// (helmreg.ClientOptHTTPClient); plain HTTP needs helmreg.ClientOptPlainHTTP.
func PushChart(t testing.TB, host, repo string, data []byte, opts ...helmreg.ClientOption) string {
	t.Helper()
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// A private credentials file keeps the test away from the user's Helm configuration.
	opts = append([]helmreg.ClientOption{helmreg.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json"))}, opts...)
	client, err := helmreg.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("%s/%s/%s:%s", host, repo, c.Name(), c.Metadata.Version)
	if _, err := client.Push(data, ref); err != nil {
		t.Fatalf("helm push %s: %v", ref, err)
	}
	return ref
}
