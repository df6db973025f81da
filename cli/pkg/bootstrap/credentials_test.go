package bootstrap

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"gotk.dev/cli/pkg/sshkey"
)

func TestCredentialsData(t *testing.T) {
	ctx := context.Background()
	ca := []byte("-----BEGIN CERTIFICATE-----\n")
	tests := []struct {
		name    string
		creds   Credentials
		keys    string
		wantPub bool
	}{
		{"basic auth", Credentials{Username: "git", Password: "s3cret", CACert: ca}, "ca.crt,password,username", false},
		{"bearer token", Credentials{BearerToken: "t0ken"}, "bearerToken", false},
		{"new ssh key", Credentials{SSH: true, KnownHosts: []byte("example.com ssh-ed25519 AAAA\n"),
			KeyOpts: sshkey.Options{Algorithm: "ed25519"}}, "identity,identity.pub,known_hosts", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, pub, err := tt.creds.Data(ctx, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(slices.Sorted(maps.Keys(data)), ","); got != tt.keys {
				t.Errorf("keys = %s, want %s", got, tt.keys)
			}
			if (pub != nil) != tt.wantPub || (pub != nil && !bytes.Equal(pub, data["identity.pub"])) {
				t.Errorf("public key %q", pub)
			}
		})
	}
}
