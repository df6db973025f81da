package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestOIDCViewer maps ID token claims to the Kubernetes user and groups with kube-apiserver's
// rules for the same flags.
func TestOIDCViewer(t *testing.T) {
	const issuer = "https://idp.example.com"
	claims := map[string]any{"sub": "1234", "email": "ann@example.com", "email_verified": true, "groups": []any{"dev", "ops"}, "team": "blue"}
	for _, tc := range []struct {
		name       string
		o          OIDCOptions
		claims     map[string]any
		user, want string // want: groups joined by ","
		err        string
	}{
		{name: "sub gets the issuer prefix by default", o: OIDCOptions{}, claims: claims, user: issuer + "#1234"},
		{name: "email gets no prefix by default", o: OIDCOptions{UsernameClaim: "email"}, claims: claims, user: "ann@example.com"},
		{name: "a dash disables the prefix", o: OIDCOptions{UsernamePrefix: "-"}, claims: claims, user: "1234"},
		{name: "prefixes", o: OIDCOptions{UsernameClaim: "email", UsernamePrefix: "oidc:", GroupsClaim: "groups", GroupsPrefix: "oidc:"}, claims: claims,
			user: "oidc:ann@example.com", want: "oidc:dev,oidc:ops"},
		{name: "a single group as a string", o: OIDCOptions{UsernamePrefix: "-", GroupsClaim: "team"}, claims: claims, user: "1234", want: "blue"},
		{name: "no groups claim in the token", o: OIDCOptions{UsernamePrefix: "-", GroupsClaim: "roles"}, claims: claims, user: "1234"},
		{name: "unverified email refused", o: OIDCOptions{UsernameClaim: "email"},
			claims: map[string]any{"email": "ann@example.com", "email_verified": false}, err: "not verified"},
		{name: "missing username claim", o: OIDCOptions{UsernameClaim: "preferred_username"}, claims: claims, err: `no string claim "preferred_username"`},
		{name: "groups of the wrong type", o: OIDCOptions{GroupsClaim: "groups"},
			claims: map[string]any{"sub": "1", "groups": []any{"a", 2}}, err: "not a list of strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.IssuerURL, tc.o.ClientID = issuer, "ui"
			l, err := newOIDCLogin(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			v, err := l.viewer(tc.claims)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.User != tc.user || strings.Join(v.Groups, ",") != tc.want {
				t.Errorf("got %q %v, want %q [%s]", v.User, v.Groups, tc.user, tc.want)
			}
		})
	}
}

func TestOIDCScopes(t *testing.T) {
	l, _ := newOIDCLogin(OIDCOptions{IssuerURL: "https://idp", ClientID: "ui", GroupsClaim: "groups"})
	if got := strings.Join(l.o.Scopes, ","); got != "openid,profile,email,groups" {
		t.Errorf("scopes %s", got)
	}
	l, _ = newOIDCLogin(OIDCOptions{IssuerURL: "https://idp", ClientID: "ui", GroupsClaim: "roles"})
	if got := strings.Join(l.o.Scopes, ","); got != "openid,profile,email" {
		t.Errorf("scopes %s", got)
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/Kustomization/a/b?tab=tree": "/Kustomization/a/b?tab=tree",
		"":                            "/",
		"https://evil.example":        "/",
		"//evil.example/x":            "/",
		`/\evil.example`:              "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignInFlags reads the --oidc-* flags and the secrets from files or the environment.
func TestSignInFlags(t *testing.T) {
	parse := func(args ...string) (Options, error) {
		var f SignInFlags
		fs := pflag.NewFlagSet("ui", pflag.ContinueOnError)
		f.AddTo(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		var o Options
		return o, f.Apply(&o)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parse("--oidc-issuer-url=https://idp", "--oidc-client-id=ui", "--oidc-client-secret-file="+secret,
		"--oidc-groups-claim=groups", "--oidc-groups-prefix=oidc:", "--session-ttl=1h")
	if err != nil {
		t.Fatal(err)
	}
	if o.OIDC == nil || o.OIDC.ClientSecret != "s3cret" || o.OIDC.UsernameClaim != "sub" || o.OIDC.GroupsPrefix != "oidc:" || o.SessionTTL.Hours() != 1 {
		t.Errorf("options %+v %+v", o, o.OIDC)
	}
	t.Setenv(EnvOIDCClientSecret, "from-env")
	t.Setenv(EnvSessionSecret, "session-key")
	if o, err = parse("--oidc-issuer-url=https://idp", "--oidc-client-id=ui"); err != nil || o.OIDC.ClientSecret != "from-env" || string(o.SessionSecret) != "session-key" {
		t.Errorf("secrets from the environment: %v %+v", err, o)
	}
	if o, err = parse(); err != nil || o.OIDC != nil {
		t.Errorf("no OIDC flags: %v %+v", err, o.OIDC)
	}
	if _, err = parse("--oidc-issuer-url=https://idp"); err == nil || !strings.Contains(err.Error(), "--oidc-client-id") {
		t.Errorf("issuer without client: %v", err)
	}
	if _, err = parse("--oidc-client-id=ui"); err == nil || !strings.Contains(err.Error(), "--oidc-issuer-url") {
		t.Errorf("client without issuer: %v", err)
	}
	if _, err = parse("--oidc-issuer-url=https://idp", "--oidc-client-id=ui", "--oidc-client-secret-file=/nonexistent"); err == nil || !strings.Contains(err.Error(), "--oidc-client-secret-file") {
		t.Errorf("missing secret file: %v", err)
	}
}
