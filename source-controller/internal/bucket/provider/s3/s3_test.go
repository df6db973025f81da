package s3

import (
	"strings"
	"testing"

	"gotk.dev/source-controller/internal/bucket/provider"
)

func TestSplitEndpoint(t *testing.T) {
	tests := []struct {
		endpoint   string
		insecure   bool
		host       string
		secure     bool
		wantErrSub string
	}{
		{endpoint: "s3.amazonaws.com", host: "s3.amazonaws.com", secure: true},
		{endpoint: "minio:9000", insecure: true, host: "minio:9000"},
		{endpoint: "https://minio:9000/", host: "minio:9000", secure: true},
		{endpoint: "https://minio:9000", insecure: true, host: "minio:9000", secure: true},
		{endpoint: "http://minio:9000", insecure: true, host: "minio:9000"},
		{endpoint: "http://minio:9000", wantErrSub: "spec.insecure"},
		{endpoint: "minio:9000/path", wantErrSub: "want host[:port]"},
		{endpoint: "https://user:pw@minio", wantErrSub: "credentials in the endpoint"},
		{endpoint: "", wantErrSub: "want host[:port]"},
	}
	for _, tt := range tests {
		host, secure, err := splitEndpoint(tt.endpoint, tt.insecure)
		if tt.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Errorf("%q: err = %v, want %q", tt.endpoint, err, tt.wantErrSub)
			}
			continue
		}
		if err != nil || host != tt.host || secure != tt.secure {
			t.Errorf("%q: (%q, %v, %v), want (%q, %v)", tt.endpoint, host, secure, err, tt.host, tt.secure)
		}
	}
}

func TestSTSProviderMismatch(t *testing.T) {
	opts := provider.Options{Bucket: "b", Endpoint: "s3.amazonaws.com", STS: &provider.STS{Provider: "ldap", Endpoint: "https://sts"}}
	if _, err := NewAWS(opts); err == nil {
		t.Error("aws provider accepted an ldap STS")
	}
	opts.STS.Provider = "aws"
	if _, err := NewGeneric(opts); err == nil {
		t.Error("generic provider accepted an aws STS")
	}
	opts.STS = &provider.STS{Provider: "ldap", Endpoint: "https://sts", Secret: map[string][]byte{"username": []byte("u")}}
	if _, err := NewGeneric(opts); err == nil || !strings.Contains(err.Error(), "'password'") {
		t.Errorf("ldap secret without password: %v", err)
	}
}
