package cloud

import (
	"net/http"
	"net/url"
	"testing"
)

// TestViaSkipsMetadataServers: an object's proxy carries requests to the clouds, never to
// the node-local instance metadata servers (IMDS, Azure IMDS, GKE's), which a proxy cannot
// reach and which the controller's own identity may need.
func TestViaSkipsMetadataServers(t *testing.T) {
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:8999")
	proxy := &url.URL{Scheme: "http", Host: "proxy.example:3128", User: url.UserPassword("flux", "secret")}
	l := (&Logins{}).Via(proxy)
	tr := l.HTTPClient.Transport.(proxyNamed).next.(*http.Transport)
	for target, proxied := range map[string]bool{
		"https://sts.eu-west-1.amazonaws.com/":                true,
		"https://login.microsoftonline.com/tenant":            true,
		"https://sts.googleapis.com/v1/token":                 true,
		"http://127.0.0.1:9000/":                              true,
		"http://169.254.169.254/latest/api/token":             false,
		"http://[fd00:ec2::254]/latest/api/token":             false,
		"http://metadata.google.internal/computeMetadata/v1/": false,
		"http://127.0.0.1:8999/computeMetadata/v1/":           false,
	} {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.Proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		if (got != nil) != proxied || (got != nil && got.String() != proxy.String()) {
			t.Errorf("%s: proxy %v, want proxied %v", target, got, proxied)
		}
	}
	if (&Logins{}).Via(nil).HTTPClient != nil {
		t.Error("without a proxy the Logins must stay as they are")
	}
}
