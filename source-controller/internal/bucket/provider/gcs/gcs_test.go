package gcs

import (
	"strings"
	"testing"
)

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		endpoint, want string
		insecure       bool
		wantErrSub     string
	}{
		{endpoint: "storage.googleapis.com", want: ""},
		{endpoint: "https://storage.googleapis.com/", want: ""},
		{endpoint: "", want: ""},
		{endpoint: "gcs.internal:4443", want: "https://gcs.internal:4443/storage/v1/"},
		{endpoint: "127.0.0.1:4443", insecure: true, want: "http://127.0.0.1:4443/storage/v1/"},
		{endpoint: "http://127.0.0.1:4443", insecure: true, want: "http://127.0.0.1:4443/storage/v1/"},
		{endpoint: "http://127.0.0.1:4443", wantErrSub: "spec.insecure"},
		{endpoint: "gcs.internal/x", wantErrSub: "want host[:port]"},
	}
	for _, tt := range tests {
		got, err := endpointURL(tt.endpoint, tt.insecure)
		if tt.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Errorf("%q: err = %v, want %q", tt.endpoint, err, tt.wantErrSub)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.endpoint, got, err, tt.want)
		}
	}
}
