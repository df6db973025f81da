package helmrepo

import (
	"bytes"
	"fmt"
	"os"
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
	ref, err := Push(host, repo, data, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// Push is PushChart outside a test.
func Push(host, repo string, data []byte, opts ...helmreg.ClientOption) (string, error) {
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	// A private credentials file keeps the push away from the user's Helm configuration.
	dir, err := os.MkdirTemp("", "helmrepo-push-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	opts = append([]helmreg.ClientOption{helmreg.ClientOptCredentialsFile(filepath.Join(dir, "config.json"))}, opts...)
	client, err := helmreg.NewClient(opts...)
	if err != nil {
		return "", err
	}
	ref := fmt.Sprintf("%s/%s/%s:%s", host, repo, c.Name(), c.Metadata.Version)
	if _, err := client.Push(data, ref); err != nil {
		return "", fmt.Errorf("helm push %s: %w", ref, err)
	}
	return ref, nil
}
