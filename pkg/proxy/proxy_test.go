package proxy

import (
	"strings"
	"testing"
)

func TestFromSecret(t *testing.T) {
	tests := []struct {
		data    map[string]string
		wantErr string
	}{
		{data: map[string]string{"address": "http://proxy:3128", "username": "u", "password": "p"}},
		{data: map[string]string{"address": " socks5://proxy:1080\n"}},
		{data: map[string]string{}, wantErr: "'address' is required"},
		{data: map[string]string{"address": "ftp://proxy"}, wantErr: "unsupported scheme"},
		{data: map[string]string{"address": "http://"}, wantErr: "no host"},
		{data: map[string]string{"address": "http://proxy", "password": "p"}, wantErr: "requires 'username'"},
		{data: map[string]string{"address": "http://user:s3cret-in-url@%zz"}, wantErr: "is not a URL"},
	}
	for _, tt := range tests {
		data := map[string][]byte{}
		for k, v := range tt.data {
			data[k] = []byte(v)
		}
		p, err := FromSecret(data)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.data, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
			continue
		}
		if err != nil || p.URL != strings.TrimSpace(tt.data["address"]) || p.Username != tt.data["username"] || p.Password != tt.data["password"] {
			t.Errorf("%v: got %+v, %v", tt.data, p, err)
		}
	}
}

func TestProxyURLAndString(t *testing.T) {
	o := &Options{URL: "http://proxy.example:3128", Username: "alice", Password: "proxy-s3cret"}
	u, err := o.ProxyURL()
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); u.User.Username() != "alice" || pw != "proxy-s3cret" || u.Host != "proxy.example:3128" {
		t.Fatalf("proxy URL = %v", u)
	}
	withCreds := &Options{URL: "http://bob:url-s3cret@proxy.example:3128"}
	for _, s := range []string{o.String(), withCreds.String()} {
		if strings.Contains(s, "s3cret") || !strings.Contains(s, "proxy.example:3128") {
			t.Errorf("String() = %q", s)
		}
	}
	var none *Options
	if none.String() != "<no proxy>" {
		t.Errorf("nil String() = %q", none.String())
	}
	if _, err := (&Options{URL: "::"}).ProxyURL(); err == nil {
		t.Error("an invalid address gave a URL")
	}
}
