package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitserver"
)

func rsaKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func githubAppServer(t *testing.T, key *rsa.PrivateKey, lifetime time.Duration) *githubapi.Server {
	t.Helper()
	return githubapi.New(t, githubapi.Options{Token: "ghp_owner", Orgs: []string{"fleet"},
		Git: gitserver.New(t, gitserver.Options{Root: t.TempDir()}), TokenLifetime: lifetime,
		Apps: []githubapi.App{{ID: 42, PublicKey: &key.PublicKey, Installations: []githubapi.Installation{
			{ID: 7, Account: "fleet"}, {ID: 8, Account: "someone"}}}}})
}

func appSecret(api *githubapi.Server, keyPEM []byte, extra map[string]string) map[string][]byte {
	data := map[string][]byte{KeyGitHubAppID: []byte("42"), KeyGitHubAppPrivateKey: keyPEM,
		KeyGitHubAppBaseURL: []byte(api.APIURL()), "ca.crt": api.CACert()}
	for k, v := range extra {
		if v == "" {
			delete(data, k)
		} else {
			data[k] = []byte(v)
		}
	}
	return data
}

func TestGitHubAppToken(t *testing.T) {
	key, keyPEM := rsaKey(t)
	api := githubAppServer(t, key, 0)
	ctx := context.Background()
	for name, extra := range map[string]map[string]string{
		"installation ID":    {KeyGitHubAppInstallationID: "7"},
		"installation owner": {KeyGitHubAppInstallationOwner: "FLEET"},
	} {
		t.Run(name, func(t *testing.T) {
			app, err := GitHubAppFromSecret(appSecret(api, keyPEM, extra))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := app.Token(ctx, GitHubTokenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.Value, "ghs_") || tok.Username != GitHubAccessTokenUser || time.Until(tok.ExpiresAt) < 50*time.Minute {
				t.Fatalf("token %q user %q expires %v", tok.Value[:4], tok.Username, tok.ExpiresAt)
			}
		})
	}
}

func TestGitHubAppTokenCached(t *testing.T) {
	key, keyPEM := rsaKey(t)
	api := githubAppServer(t, key, 0)
	cache := NewTokenCache(CacheOptions{MaxSize: 10, MaxDuration: time.Hour})
	app, err := GitHubAppFromSecret(appSecret(api, keyPEM, map[string]string{KeyGitHubAppInstallationID: "7"}))
	if err != nil {
		t.Fatal(err)
	}
	first, err := app.Token(context.Background(), GitHubTokenOptions{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	second, err := app.Token(context.Background(), GitHubTokenOptions{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if first.Value != second.Value || api.IssuedTokens() != 1 {
		t.Fatalf("the second call was not served from the cache: %d tokens issued", api.IssuedTokens())
	}
	// Another installation is another token.
	other, _ := GitHubAppFromSecret(appSecret(api, keyPEM, map[string]string{KeyGitHubAppInstallationID: "8"}))
	if _, err := other.Token(context.Background(), GitHubTokenOptions{Cache: cache}); err != nil {
		t.Fatal(err)
	}
	if api.IssuedTokens() != 2 || cache.Len() != 2 {
		t.Fatalf("issued %d, cached %d; want 2 and 2", api.IssuedTokens(), cache.Len())
	}
}

func TestGitHubAppTokenAboutToExpireIsNotCached(t *testing.T) {
	key, keyPEM := rsaKey(t)
	api := githubAppServer(t, key, 30*time.Second) // shorter than the expiry margin
	cache := NewTokenCache(CacheOptions{MaxSize: 10, MaxDuration: time.Hour})
	app, _ := GitHubAppFromSecret(appSecret(api, keyPEM, map[string]string{KeyGitHubAppInstallationID: "7"}))
	for range 2 {
		if _, err := app.Token(context.Background(), GitHubTokenOptions{Cache: cache}); err != nil {
			t.Fatal(err)
		}
	}
	if api.IssuedTokens() != 2 {
		t.Fatalf("issued %d tokens, want 2: a token about to expire must not be reused", api.IssuedTokens())
	}
}

func TestGitHubAppTokenFailures(t *testing.T) {
	key, keyPEM := rsaKey(t)
	_, otherPEM := rsaKey(t)
	api := githubAppServer(t, key, 0)
	for name, tc := range map[string]struct {
		key   []byte
		extra map[string]string
		want  string
	}{
		"wrong key":          {otherPEM, map[string]string{KeyGitHubAppInstallationID: "7"}, "GitHub App 42 installation 7 at " + api.APIURL() + ": POST " + api.APIURL() + "app/installations/7/access_tokens: 401 A JSON web token could not be decoded"},
		"unknown app":        {keyPEM, map[string]string{KeyGitHubAppID: "43", KeyGitHubAppInstallationID: "7"}, "401 Integration not found"},
		"not installed":      {keyPEM, map[string]string{KeyGitHubAppInstallationID: "9"}, "installations/9/access_tokens: 404 Not Found"},
		"owner without app":  {keyPEM, map[string]string{KeyGitHubAppInstallationOwner: "nobody"}, "the app is not installed for owner 'nobody'"},
		"untrusted endpoint": {keyPEM, map[string]string{KeyGitHubAppInstallationID: "7", "ca.crt": ""}, "certificate signed by unknown authority"},
	} {
		t.Run(name, func(t *testing.T) {
			app, err := GitHubAppFromSecret(appSecret(api, tc.key, tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			_, err = app.Token(context.Background(), GitHubTokenOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "eyJ") {
				t.Fatalf("error leaks a credential: %v", err)
			}
		})
	}
}

func TestGitHubAppFromSecretRefusesBadSecrets(t *testing.T) {
	_, keyPEM := rsaKey(t)
	base := func(extra map[string]string) map[string][]byte {
		d := map[string][]byte{KeyGitHubAppID: []byte("1"), KeyGitHubAppInstallationID: []byte("2"), KeyGitHubAppPrivateKey: keyPEM}
		for k, v := range extra {
			if v == "" {
				delete(d, k)
			} else {
				d[k] = []byte(v)
			}
		}
		return d
	}
	for name, tc := range map[string]struct {
		data map[string][]byte
		want string
	}{
		"no app ID":           {base(map[string]string{KeyGitHubAppID: ""}), "'githubAppID' is required"},
		"app ID not a number": {base(map[string]string{KeyGitHubAppID: "abc"}), "'githubAppID' must be a positive number"},
		"no installation":     {base(map[string]string{KeyGitHubAppInstallationID: ""}), "one of 'githubAppInstallationID' or 'githubAppInstallationOwner' is required"},
		"both installations":  {base(map[string]string{KeyGitHubAppInstallationOwner: "x"}), "mutually exclusive"},
		"no key":              {base(map[string]string{KeyGitHubAppPrivateKey: ""}), "'githubAppPrivateKey' is required"},
		"bad key":             {base(map[string]string{KeyGitHubAppPrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nsecretstuff\n-----END RSA PRIVATE KEY-----\n"}), "'githubAppPrivateKey' is not a PEM-encoded RSA private key"},
		"bad base URL":        {base(map[string]string{KeyGitHubAppBaseURL: "ftp://x"}), "'githubAppBaseURL' must be an http(s) URL"},
		"bad CA":              {base(map[string]string{"ca.crt": "nope"}), "'ca.crt' holds no PEM certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := GitHubAppFromSecret(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secretstuff") {
				t.Fatalf("error quotes the key: %v", err)
			}
		})
	}
}
