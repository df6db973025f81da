package ociverify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/internal/testing/registry"

	"gotk.dev/source-controller/internal/ociverify"
	"gotk.dev/source-controller/internal/testsign"
)

// TestLocalRootFromCosignEnv verifies keyless signatures of a private Sigstore configured the
// way cosign documents for custom components (SIGSTORE_ROOT_FILE, SIGSTORE_REKOR_PUBLIC_KEY):
// its signatures verify, with the identity policy, certificate lifetime and log checks
// intact; another Sigstore's signature does not.
func TestLocalRootFromCosignEnv(t *testing.T) {
	private, other := testsign.NewSigstore(t), testsign.NewSigstore(t)
	env, err := private.WriteCosignEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	local, err := ociverify.NewLocalRoot("", func(k string) string { return env[k] })
	if err != nil || local == nil {
		t.Fatalf("NewLocalRoot = %v, %v", local, err)
	}
	data, err := local.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ociverify.ParseTrustedRoot(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ociverify.NewCosignKeyless(tr, []ociverify.Identity{{Issuer: `^https://issuer\.example$`, Subject: `^ci@example\.com$`}})
	if err != nil {
		t.Fatal(err)
	}

	reg, err := registry.StartInProcess()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	ci := testsign.KeylessOptions{Identity: "ci@example.com", Issuer: "https://issuer.example"}
	for _, tc := range []struct {
		name    string
		sign    func(repo name.Repository, digest string)
		wantErr string
	}{
		{name: "legacy", sign: func(r name.Repository, d string) { private.SignLegacy(t, r, d, ci) }},
		{name: "bundle", sign: func(r name.Repository, d string) { private.SignBundle(t, r, d, ci) }},
		{name: "wrong-identity", wantErr: "mallory@example.com", sign: func(r name.Repository, d string) {
			private.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: "mallory@example.com", Issuer: "https://issuer.example"})
		}},
		{name: "expired-certificate", wantErr: "certificate", sign: func(r name.Repository, d string) {
			private.SignLegacy(t, r, d, testsign.KeylessOptions{Identity: ci.Identity, Issuer: ci.Issuer, LoggedAt: time.Now().Add(30 * time.Minute)})
		}},
		{name: "other-sigstore", wantErr: "none of the 1 signature(s)", sign: func(r name.Repository, d string) { other.SignLegacy(t, r, d, ci) }},
		{name: "unsigned", wantErr: "no signature found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, err := name.NewRepository(reg.Host() + "/env/" + tc.name)
			if err != nil {
				t.Fatal(err)
			}
			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(repo.Tag("v1"), img); err != nil {
				t.Fatal(err)
			}
			d, err := img.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if tc.sign != nil {
				tc.sign(repo, d.String())
			}
			msg, err := v.Verify(context.Background(), ociverify.Target{Repo: repo, Digest: d.String()})
			if tc.wantErr == "" {
				if err != nil || !strings.Contains(msg, "ci@example.com") {
					t.Fatalf("Verify = %q, %v; want verified for ci@example.com", msg, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Verify = %q, %v; want an error with %q", msg, err, tc.wantErr)
			}
		})
	}
}

// TestNewLocalRoot covers where the controller's root comes from and how bad configuration
// stops it at start with the variable or flag named.
func TestNewLocalRoot(t *testing.T) {
	s := testsign.NewSigstore(t)
	dir := t.TempDir()
	env, err := s.WriteCosignEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rootFile := write("trusted_root.json", string(s.TrustedRoot))
	getenv := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	if l, err := ociverify.NewLocalRoot("", getenv(nil)); l != nil || err != nil {
		t.Fatalf("nothing configured: got %v, %v; want the public root (nil)", l, err)
	}
	l, err := ociverify.NewLocalRoot(rootFile, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l.TrustedRoot(); err != nil || string(got) != string(s.TrustedRoot) {
		t.Fatalf("the flag's file wins over the environment: got %d bytes, %v", len(got), err)
	}
	// The file is read again on each use: a rotated root applies without a restart.
	other := testsign.NewSigstore(t)
	write("trusted_root.json", string(other.TrustedRoot))
	if got, _ := l.TrustedRoot(); string(got) != string(other.TrustedRoot) {
		t.Fatal("the rotated trusted root file was not read again")
	}

	for _, tc := range []struct {
		name    string
		file    string
		env     map[string]string
		wantErr []string
	}{
		{name: "flag-missing-file", file: filepath.Join(dir, "nope.json"), wantErr: []string{"--sigstore-trusted-root", "nope.json"}},
		{name: "flag-not-a-root", file: write("garbage.json", `{"mediaType": 1}`), wantErr: []string{"--sigstore-trusted-root", "not a Sigstore trusted root"}},
		{name: "fulcio-only", env: map[string]string{"SIGSTORE_ROOT_FILE": env["SIGSTORE_ROOT_FILE"]},
			wantErr: []string{"SIGSTORE_REKOR_PUBLIC_KEY", "only SIGSTORE_ROOT_FILE is set"}},
		{name: "ct-only", env: map[string]string{"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE": env["SIGSTORE_REKOR_PUBLIC_KEY"]},
			wantErr: []string{"SIGSTORE_ROOT_FILE", "only SIGSTORE_CT_LOG_PUBLIC_KEY_FILE is set"}},
		{name: "fulcio-not-pem", env: map[string]string{"SIGSTORE_ROOT_FILE": write("bad.pem", "hello"), "SIGSTORE_REKOR_PUBLIC_KEY": env["SIGSTORE_REKOR_PUBLIC_KEY"]},
			wantErr: []string{"SIGSTORE_ROOT_FILE=", "bad.pem"}},
		{name: "rekor-key-is-a-certificate", env: map[string]string{"SIGSTORE_ROOT_FILE": env["SIGSTORE_ROOT_FILE"], "SIGSTORE_REKOR_PUBLIC_KEY": env["SIGSTORE_ROOT_FILE"]},
			wantErr: []string{"SIGSTORE_REKOR_PUBLIC_KEY=", "not a PEM or DER public key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ociverify.NewLocalRoot(tc.file, getenv(tc.env))
			if err == nil {
				t.Fatalf("NewLocalRoot = %v, want an error", l)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
