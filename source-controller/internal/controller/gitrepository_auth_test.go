package controller

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestGitRepositoryAuth clones through every credential kind of spec.secretRef and through
// spec.proxySecretRef, against servers that refuse anything else, and checks that failures
// are reported without the secret values.
func TestGitRepositoryAuth(t *testing.T) {
	t.Parallel()
	const (
		user, password = "flux", "basic-pass-s3cret"
		token          = "bearer-token-s3cret"
		proxyUser      = "proxy-user"
		proxyPassword  = "proxy-pass-s3cret"
	)
	basic := gitserver.New(t, gitserver.Options{Username: user, Password: password})
	bearer := gitserver.New(t, gitserver.Options{BearerToken: token})
	tlsSrv := gitserver.New(t, gitserver.Options{TLS: true})
	mtls := gitserver.New(t, gitserver.Options{MTLS: true})
	anon := gitserver.New(t, gitserver.Options{})
	sshSrv := gitserver.NewSSH(t, gitserver.SSHOptions{})

	type server interface {
		InitRepo(string) (string, error)
		Commit(string) *gitserver.CommitBuilder
	}
	urls := map[string]string{}
	for name, s := range map[string]server{"basic": basic, "bearer": bearer, "tls": tlsSrv, "mtls": mtls, "anon": anon, "ssh": sshSrv} {
		u, err := s.InitRepo("app")
		if err != nil {
			t.Fatal(err)
		}
		s.Commit("app").File("server.txt", name).MustDo(t)
		urls[name] = u
	}

	// A known_hosts line for the right address but another key: the host must be refused.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, err := ssh.NewPublicKey(otherKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	wrongKnownHosts := []byte(knownhosts.Line([]string{sshSrv.Addr()}, otherPub) + "\n")
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)
	strangerBlock, err := ssh.MarshalPrivateKey(strangerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	strangerPEM := pemEncode(strangerBlock)

	secretValues := []string{password, token, proxyPassword, "wrong-proxy-s3cret", "wrong-pass-s3cret", string(sshSrv.ClientKey()), string(mtls.ClientKey()), strangerPEM}
	ns := newNamespace(t)
	for _, tc := range []struct {
		name   string
		server string
		secret map[string][]byte
		// proxyPass, when set, sends the clone through a proxy of its own (requiring
		// proxyPassword) with this password in spec.proxySecretRef.
		proxyPass string
		// wantReason is the Ready=False reason; empty means Ready=True is expected.
		wantReason string
		wantMsg    []string
		stalled    bool
	}{
		{name: "basic-auth", server: "basic", secret: map[string][]byte{"username": []byte(user), "password": []byte(password)}},
		{name: "basic-auth-wrong-password", server: "basic", secret: map[string][]byte{"username": []byte(user), "password": []byte("wrong-pass-s3cret")},
			wantReason: sourcev1.GitOperationFailedReason, wantMsg: []string{"authentication required"}},
		{name: "basic-auth-no-secret", server: "basic", wantReason: sourcev1.GitOperationFailedReason, wantMsg: []string{"authentication required"}},
		{name: "bearer-token", server: "bearer", secret: map[string][]byte{"bearerToken": []byte(token)}},
		{name: "https-ca", server: "tls", secret: map[string][]byte{"ca.crt": tlsSrv.CACert()}},
		{name: "https-unknown-ca", server: "tls", wantReason: sourcev1.GitOperationFailedReason, wantMsg: []string{"certificate"}},
		{name: "mtls", server: "mtls", secret: map[string][]byte{"ca.crt": mtls.CACert(), "tls.crt": mtls.ClientCert(), "tls.key": mtls.ClientKey()}},
		{name: "mtls-no-client-cert", server: "mtls", secret: map[string][]byte{"ca.crt": mtls.CACert()},
			wantReason: sourcev1.GitOperationFailedReason},
		{name: "ssh", server: "ssh", secret: map[string][]byte{"identity": sshSrv.ClientKey(), "known_hosts": sshSrv.KnownHosts()}},
		{name: "ssh-wrong-host-key", server: "ssh", secret: map[string][]byte{"identity": sshSrv.ClientKey(), "known_hosts": wrongKnownHosts},
			wantReason: sourcev1.GitOperationFailedReason, wantMsg: []string{"host key"}},
		{name: "ssh-without-known-hosts", server: "ssh", secret: map[string][]byte{"identity": sshSrv.ClientKey()},
			wantReason: sourcev1.AuthenticationFailedReason, wantMsg: []string{"known_hosts"}, stalled: true},
		{name: "ssh-unauthorized-key", server: "ssh", secret: map[string][]byte{"identity": []byte(strangerPEM), "known_hosts": sshSrv.KnownHosts()},
			wantReason: sourcev1.GitOperationFailedReason},
		{name: "proxy", server: "anon", proxyPass: proxyPassword},
		{name: "proxy-wrong-password", server: "anon", proxyPass: "wrong-proxy-s3cret",
			wantReason: sourcev1.GitOperationFailedReason},
		{name: "basic-auth-through-proxy", server: "basic", secret: map[string][]byte{"username": []byte(user), "password": []byte(password)},
			proxyPass: proxyPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newGitRepository(ns, tc.name, urls[tc.server], func(o *sourcev1.GitRepository) {
				o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
			})
			if tc.secret != nil {
				createSecret(t, ns, tc.name+"-auth", "", tc.secret)
				obj.Spec.SecretRef = &meta.LocalObjectReference{Name: tc.name + "-auth"}
			}
			var proxy *gitserver.Proxy
			if tc.proxyPass != "" {
				proxy = gitserver.NewProxy(t, gitserver.ProxyOptions{Username: proxyUser, Password: proxyPassword})
				createSecret(t, ns, tc.name+"-proxy", "", map[string][]byte{
					"address": []byte(proxy.URL()), "username": []byte(proxyUser), "password": []byte(tc.proxyPass)})
				obj.Spec.ProxySecretRef = &meta.LocalObjectReference{Name: tc.name + "-proxy"}
			}
			create(t, obj)
			if tc.wantReason == "" {
				waitReady(t, obj)
				wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"server.txt": tc.server})
				if proxy != nil && proxy.Served() == 0 {
					t.Error("the proxy forwarded nothing: the clone did not go through spec.proxySecretRef")
				}
				return
			}
			waitNotReady(t, obj, tc.wantReason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, tc.wantReason, tc.wantMsg...)
			if tc.stalled {
				wantCondition(t, obj, meta.StalledCondition, metav1.ConditionTrue, tc.wantReason)
			} else {
				wantNoCondition(t, obj, meta.StalledCondition)
			}
			if obj.Status.Artifact != nil {
				t.Errorf("artifact stored although authentication failed")
			}
			if proxy != nil && proxy.Denied() == 0 {
				t.Error("the proxy refused nothing: the clone did not go through spec.proxySecretRef")
			}
			wantNoSecret(t, obj, secretValues...)
			for _, ev := range suiteEnv.events.Of(sourcev1.GitRepositoryKind, ns, tc.name, "") {
				for _, s := range secretValues {
					if strings.Contains(ev.Message, s) {
						t.Errorf("event %s leaks a secret value: %q", ev.Reason, ev.Message)
					}
				}
			}
		})
	}

	t.Run("missing-secret", func(t *testing.T) {
		t.Parallel()
		obj := newGitRepository(ns, "missing-secret", urls["basic"], func(o *sourcev1.GitRepository) {
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: "does-not-exist"}
			o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
		})
		create(t, obj)
		waitNotReady(t, obj, sourcev1.AuthenticationFailedReason)
		wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason, "does-not-exist")
		// Created later, the Secret is picked up by the retries.
		createSecret(t, ns, "does-not-exist", "", map[string][]byte{"username": []byte(user), "password": []byte(password)})
		waitReady(t, obj)
	})
}

func pemEncode(b *pem.Block) string { return string(pem.EncodeToMemory(b)) }
