package controller

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// dockerConfig is a kubernetes.io/dockerconfigjson payload for one registry.
func dockerConfig(host, user, password string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return []byte(fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, host, user, password, auth))
}

// TestOCIRepositoryAuth pulls from the CNCF distribution registry with htpasswd auth and
// TLS requiring client certificates: credentials from spec.secretRef or the service account's
// imagePullSecrets, CA and client certificate from spec.certSecretRef; each missing piece
// fails with FetchFailed, without the password in any message.
func TestOCIRepositoryAuth(t *testing.T) {
	t.Parallel()
	const user, password = "flux", "registry-pass-s3cret"
	reg, err := registry.Start(registry.Options{Users: map[string]string{user: password}, TLS: true, ClientAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	cfg := dockerConfig(reg.Host(), user, password)
	kc, err := oci.KeychainFromDockerConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := oci.NewClient(oci.ClientOptions{Keychain: kc, TLSConfig: reg.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	url := "oci://" + reg.Host() + "/private/app"
	digest := pushFlux(t, pusher, url+":v1", map[string]string{"app.yaml": "private"}, oci.PushOptions{})

	ns := newNamespace(t)
	certPEM, keyPEM := reg.ClientCertPEM()
	createSecret(t, ns, "regcred", corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: cfg})
	createSecret(t, ns, "wrongcred", corev1.SecretTypeDockerConfigJson, map[string][]byte{
		corev1.DockerConfigJsonKey: dockerConfig(reg.Host(), user, "wrong-registry-s3cret")})
	createSecret(t, ns, "opaque", "", map[string][]byte{"username": []byte(user), "password": []byte(password)})
	createSecret(t, ns, "tls", "", map[string][]byte{"ca.crt": reg.CAPEM(), "tls.crt": certPEM, "tls.key": keyPEM})
	createSecret(t, ns, "ca-only", "", map[string][]byte{"ca.crt": reg.CAPEM()})
	create(t, &corev1.ServiceAccount{
		ObjectMeta:       metav1.ObjectMeta{Namespace: ns, Name: "puller"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
	})

	for _, tc := range []struct {
		name           string
		secret, certs  string
		serviceAccount string
		wantReason     string // empty: Ready=True
		wantMsg        []string
		stalled        bool
	}{
		{name: "secret-ref", secret: "regcred", certs: "tls"},
		{name: "service-account", serviceAccount: "puller", certs: "tls"},
		{name: "no-credentials", certs: "tls", wantReason: sourcev1.OCIPullFailedReason, wantMsg: []string{"UNAUTHORIZED"}},
		{name: "wrong-password", secret: "wrongcred", certs: "tls", wantReason: sourcev1.OCIPullFailedReason, wantMsg: []string{"UNAUTHORIZED"}},
		{name: "no-client-certificate", secret: "regcred", certs: "ca-only", wantReason: sourcev1.OCIPullFailedReason},
		{name: "unknown-ca", secret: "regcred", wantReason: sourcev1.OCIPullFailedReason, wantMsg: []string{"certificate"}},
		{name: "not-a-docker-config", secret: "opaque", certs: "tls", wantReason: sourcev1.AuthenticationFailedReason,
			wantMsg: []string{".dockerconfigjson"}, stalled: true},
		{name: "missing-cert-secret", secret: "regcred", certs: "does-not-exist", wantReason: sourcev1.AuthenticationFailedReason,
			wantMsg: []string{"does-not-exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newOCIRepository(ns, tc.name, url, func(o *sourcev1.OCIRepository) {
				o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
				o.Spec.ServiceAccountName = tc.serviceAccount
				if tc.secret != "" {
					o.Spec.SecretRef = &meta.LocalObjectReference{Name: tc.secret}
				}
				if tc.certs != "" {
					o.Spec.CertSecretRef = &meta.LocalObjectReference{Name: tc.certs}
				}
			})
			create(t, obj)
			if tc.wantReason == "" {
				waitRevision(t, obj, "v1@"+digest)
				wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "private"})
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
				t.Error("artifact stored although the pull was refused")
			}
			wantNoSecret(t, obj, password, "wrong-registry-s3cret", string(keyPEM))
			for _, ev := range suiteEnv.events.Of(sourcev1.OCIRepositoryKind, ns, tc.name, "") {
				if strings.Contains(ev.Message, password) || strings.Contains(ev.Message, "wrong-registry-s3cret") {
					t.Errorf("event %s leaks the password: %q", ev.Reason, ev.Message)
				}
			}
		})
	}
}

// TestOCIRepositoryInsecure pulls over plain HTTP from a registry on 127.0.0.2 (a loopback
// address go-containerregistry does not reach over plain HTTP by itself, as it does
// 127.0.0.1): refused without spec.insecure, pulled with it.
func TestOCIRepositoryInsecure(t *testing.T) {
	t.Parallel()
	reg, err := registry.StartInProcessOn("127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	named := reg.Host()
	digest := pushFlux(t, insecureClient(t), "oci://"+reg.Host()+"/app:latest", map[string]string{"app.yaml": "plain http"}, oci.PushOptions{})
	ns := newNamespace(t)

	secure := newOCIRepository(ns, "secure", "oci://"+named+"/app", nil)
	create(t, secure)
	waitNotReady(t, secure, sourcev1.OCIPullFailedReason)
	wantCondition(t, secure, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCIPullFailedReason, named, "https://")

	insecure := newOCIRepository(ns, "insecure", "oci://"+named+"/app", func(o *sourcev1.OCIRepository) { o.Spec.Insecure = true })
	create(t, insecure)
	waitRevision(t, insecure, "latest@"+digest)
	wantFiles(t, artifactFiles(t, insecure), map[string]tarEntry{"app.yaml": "plain http"})
}
