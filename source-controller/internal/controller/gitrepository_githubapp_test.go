package controller

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/githubapi"
	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryGitHubApp clones private repositories as a GitHub App installation
// (spec.provider: github) from a server that checks the app's JWT, issues installation
// tokens and accepts them for Git over HTTPS; failures name the app, the installation and
// the endpoint, and neither the key nor a token appears anywhere.
func TestGitRepositoryGitHubApp(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	_, wrongPEM := func() (*rsa.PrivateKey, []byte) {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}()
	g := gitserver.New(t, gitserver.Options{})
	api := githubapi.New(t, githubapi.Options{Token: "ghp_owner", Orgs: []string{"fleet", "other"}, Git: g,
		Apps: []githubapi.App{{ID: 42, PublicKey: &key.PublicKey, Installations: []githubapi.Installation{{ID: 7, Account: "fleet"}}}}})
	for _, owner := range []string{"fleet", "other"} {
		if err := api.CreateRepository(owner, "app", true); err != nil {
			t.Fatal(err)
		}
		g.Commit(owner+"/app").Branch("main").File("owner.txt", owner).MustDo(t)
	}

	ns := newNamespace(t)
	secret := func(name string, extra map[string][]byte) string {
		data := map[string][]byte{"githubAppID": []byte("42"), "githubAppPrivateKey": keyPEM,
			"githubAppBaseURL": []byte(api.APIURL()), "ca.crt": api.CACert()}
		for k, v := range extra {
			if v == nil {
				delete(data, k)
			} else {
				data[k] = v
			}
		}
		createSecret(t, ns, name, "", data)
		return name
	}
	secretValues := []string{string(keyPEM), string(wrongPEM), "ghs_", "eyJ"}
	// Once every case has run: no installation token or line of a private key in the
	// controllers' log (at trace level) since the test started.
	logMark := suiteEnv.logs.Mark()
	t.Cleanup(func() {
		suiteEnv.logs.NoSecrets(t, logMark, []string{ns}, append(api.InstallationTokens(), pemLines(keyPEM, wrongPEM)...)...)
	})
	for _, tc := range []struct {
		name, repo string
		secret     map[string][]byte
		noSecret   bool
		wantReason string
		wantMsg    []string
		stalled    bool
	}{
		{name: "installation-id", repo: "fleet/app", secret: map[string][]byte{"githubAppInstallationID": []byte("7")}},
		{name: "installation-owner", repo: "fleet/app", secret: map[string][]byte{"githubAppInstallationOwner": []byte("fleet")}},
		{name: "wrong-key", repo: "fleet/app", secret: map[string][]byte{"githubAppInstallationID": []byte("7"), "githubAppPrivateKey": wrongPEM},
			wantReason: sourcev1.AuthenticationFailedReason,
			wantMsg:    []string{"GitHub App 42 installation 7 at " + api.APIURL(), "app/installations/7/access_tokens: 401"}},
		{name: "not-installed-owner", repo: "other/app", secret: map[string][]byte{"githubAppInstallationOwner": []byte("other")},
			wantReason: sourcev1.AuthenticationFailedReason, wantMsg: []string{"the app is not installed for owner 'other'"}},
		{name: "repository-of-another-account", repo: "other/app", secret: map[string][]byte{"githubAppInstallationID": []byte("7")},
			wantReason: sourcev1.GitOperationFailedReason},
		{name: "invalid-secret", repo: "fleet/app", secret: map[string][]byte{"githubAppInstallationID": []byte("7"), "githubAppID": []byte("x")},
			wantReason: sourcev1.AuthenticationFailedReason, wantMsg: []string{"invalid GitHub App secret", "'githubAppID' must be a positive number"}, stalled: true},
		{name: "no-secret", repo: "fleet/app", noSecret: true,
			wantReason: sourcev1.AuthenticationFailedReason, wantMsg: []string{"provider 'github' needs spec.secretRef"}, stalled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, api.URL()+"/"+tc.repo, func(o *sourcev1.GitRepository) {
				o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
				o.Spec.Provider = sourcev1.GitProviderGitHub
				if !tc.noSecret {
					o.Spec.SecretRef = &meta.LocalObjectReference{Name: secret(tc.name, tc.secret)}
				}
			})
			create(t, obj)
			if tc.wantReason == "" {
				waitReady(t, obj)
				wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"owner.txt": strings.Split(tc.repo, "/")[0]})
				return
			}
			waitNotReady(t, obj, tc.wantReason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, tc.wantReason, tc.wantMsg...)
			if tc.stalled {
				wantCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, tc.wantReason)
			}
			if obj.Status.Artifact != nil {
				t.Error("artifact stored although authentication failed")
			}
			wantNoSecret(t, obj, secretValues...)
			for _, ev := range suiteEnv.events.Of(sourcev1.GitRepositoryKind, ns, tc.name, "") {
				for _, s := range secretValues {
					if strings.Contains(ev.Message, s) {
						t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
					}
				}
			}
		})
	}

	t.Run("token-cached-across-reconciles", func(t *testing.T) {
		t.Parallel()
		cacheGit := gitserver.New(t, gitserver.Options{})
		cacheAPI := githubapi.New(t, githubapi.Options{Token: "ghp_owner", Orgs: []string{"fleet"}, Git: cacheGit,
			Apps: []githubapi.App{{ID: 42, PublicKey: &key.PublicKey, Installations: []githubapi.Installation{{ID: 7, Account: "fleet"}}}}})
		if err := cacheAPI.CreateRepository("fleet", "app", true); err != nil {
			t.Fatal(err)
		}
		cacheGit.Commit("fleet/app").Branch("main").File("owner.txt", "fleet").MustDo(t)
		createSecret(t, ns, "cached", "", map[string][]byte{"githubAppID": []byte("42"), "githubAppPrivateKey": keyPEM,
			"githubAppInstallationID": []byte("7"), "githubAppBaseURL": []byte(cacheAPI.APIURL()), "ca.crt": cacheAPI.CACert()})
		obj := newGitRepository(ns, "cached", cacheAPI.URL()+"/fleet/app", func(o *sourcev1.GitRepository) {
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
			o.Spec.Provider = sourcev1.GitProviderGitHub
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: "cached"}
		})
		create(t, obj)
		waitReady(t, obj)
		requestReconcile(t, obj)
		get(t, obj)
		if n := cacheAPI.IssuedTokens(); n != 1 {
			t.Fatalf("%d installation tokens issued for two reconciles, want 1 (cached)", n)
		}
		suiteEnv.logs.NoSecrets(t, logMark, []string{"cached"}, cacheAPI.InstallationTokens()...)
	})
}

// pemLines are the base64 lines of PEM documents: what a log line escaping newlines would
// still show of a private key.
func pemLines(docs ...[]byte) []string {
	var out []string
	for _, d := range docs {
		for _, line := range strings.Split(string(d), "\n") {
			if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
	}
	return out
}
