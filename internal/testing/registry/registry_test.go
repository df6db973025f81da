package registry

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"
)

// get requests /v2/ and returns the status code, or -1 when the request failed.
func get(t *testing.T, url string, cfg *tls.Config, user, pass string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		// check returns the status of requests that must be 200 and those that must not be.
		ok, notOK func(r *Registry) int
	}{
		{
			name: "plain HTTP",
			ok:   func(r *Registry) int { return get(t, "http://"+r.Host()+"/v2/", nil, "", "") },
			notOK: func(r *Registry) int {
				return get(t, "https://"+r.Host()+"/v2/", &tls.Config{InsecureSkipVerify: true}, "", "")
			},
		},
		{
			name:  "htpasswd",
			opts:  Options{Users: map[string]string{"alice": "s3cret"}},
			ok:    func(r *Registry) int { return get(t, "http://"+r.Host()+"/v2/", nil, "alice", "s3cret") },
			notOK: func(r *Registry) int { return get(t, "http://"+r.Host()+"/v2/", nil, "alice", "wrong") },
		},
		{
			name:  "TLS",
			opts:  Options{TLS: true},
			ok:    func(r *Registry) int { return get(t, "https://"+r.Host()+"/v2/", r.TLSConfig(), "", "") },
			notOK: func(r *Registry) int { return get(t, "https://"+r.Host()+"/v2/", &tls.Config{}, "", "") },
		},
		{
			name: "TLS with client certificates",
			opts: Options{TLS: true, ClientAuth: true},
			ok:   func(r *Registry) int { return get(t, "https://"+r.Host()+"/v2/", r.TLSConfig(), "", "") },
			notOK: func(r *Registry) int {
				cfg := r.TLSConfig()
				cfg.Certificates = nil
				return get(t, "https://"+r.Host()+"/v2/", cfg, "", "")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Start(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !strings.HasPrefix(r.Host(), "127.0.0.1:") {
				t.Errorf("Host() = %q, want 127.0.0.1:<port>", r.Host())
			}
			if (r.CAPEM() != nil) != tt.opts.TLS {
				t.Errorf("CAPEM() set = %v, want %v", r.CAPEM() != nil, tt.opts.TLS)
			}
			if got := tt.ok(r); got != http.StatusOK {
				t.Errorf("accepted request: status %d, want 200", got)
			}
			if got := tt.notOK(r); got == http.StatusOK {
				t.Errorf("rejected request: status 200, want a failure")
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if got := get(t, "http://"+r.Host()+"/v2/", nil, "", ""); got != -1 {
				t.Errorf("after Close: status %d, want connection failure", got)
			}
			if err := r.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestStartMissingBinary(t *testing.T) {
	t.Parallel()
	_, err := Start(Options{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "make testbin") {
		t.Fatalf("err = %v, want a hint to run make testbin", err)
	}
}

func TestStartInProcess(t *testing.T) {
	t.Parallel()
	r, err := StartInProcess()
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, "http://"+r.Host()+"/v2/", nil, "", ""); got != http.StatusOK {
		t.Errorf("/v2/ status %d, want 200", got)
	}
	if got, want := r.URL("a/b"), "oci://"+r.Host()+"/a/b"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	r.Close()
	if got := get(t, "http://"+r.Host()+"/v2/", nil, "", ""); got != -1 {
		t.Errorf("after Close: status %d, want connection failure", got)
	}
}
