package app

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/golden"
)

// notificationObjects are an Alert and a Provider (static: no status) and Receivers, one
// ready and one whose token is missing.
const notificationObjects = `
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: slack, namespace: flux-system}
spec: {providerRef: {name: slack}, eventSources: [{kind: Kustomization, name: '*'}]}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: slack, namespace: flux-system}
spec: {type: slack, suspend: true}
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: github, namespace: flux-system, generation: 1}
spec: {type: github, secretRef: {name: token}, resources: [{kind: GitRepository, name: flux-system}]}
status:
  observedGeneration: 1
  webhookPath: /hook/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  conditions:
  - {type: Ready, status: "True", reason: Succeeded, message: "Receiver initialised for path: /hook/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: broken, namespace: apps, generation: 1}
spec: {type: generic, secretRef: {name: missing}, resources: [{kind: GitRepository, name: app}]}
status:
  conditions:
  - {type: Ready, status: "False", reason: TokenNotFound, message: "unable to read token from secret 'apps/missing'"}
`

// TestNotificationTables renders flux get alerts, alert-providers and receivers (-A).
func TestNotificationTables(t *testing.T) {
	var b bytes.Buffer
	for _, doc := range bytes.Split([]byte(notificationObjects), []byte("\n---\n")) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		k, err := LookupKind("", u.GetKind())
		if err != nil {
			t.Fatal(err)
		}
		if err := renderTable(&b, kindHeader(k, true), [][]string{kindRow(k, u, true, false)}); err != nil {
			t.Fatal(err)
		}
	}
	golden.Assert(t, "get-notification-tables", b.String())
}

// TestTriggerReceiver sends what a generic-hmac Receiver checks - the path made of the token,
// name and namespace, and the X-Signature HMAC of the body - after retrying the 404 a
// Receiver answers until it is reconciled; a rejection is not retried.
func TestTriggerReceiver(t *testing.T) {
	const token, payload = "t0k3n", `{"image":"ghcr.io/org/app:v1.0.0"}`
	var mu sync.Mutex
	var calls int
	var gotPath, gotSig, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		gotPath, gotSig, gotBody = r.URL.Path, r.Header.Get("X-Signature"), string(b)
	}))
	defer srv.Close()
	kubeconfig := "--kubeconfig=" + filepath.Join(t.TempDir(), "missing")
	r := runFlux(t, "", "trigger", "receiver", "push", "-n", "apps", "--type=generic-hmac", "--token="+token,
		"--url="+srv.URL+"/", "--payload="+payload, "--retry-delay=10ms", kubeconfig)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sum := sha256.Sum256([]byte(token + "push" + "apps"))
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(payload))
	if gotPath != "/hook/"+hex.EncodeToString(sum[:]) || gotSig != "sha256="+hex.EncodeToString(mac.Sum(nil)) || gotBody != payload || calls != 2 {
		t.Errorf("calls %d, path %q, X-Signature %q, body %q", calls, gotPath, gotSig, gotBody)
	}
	wants(t, "stderr", r.stderr, "Receiver apps/push triggered")

	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "X-Signature: HMAC mismatch", http.StatusUnauthorized)
	}))
	defer refused.Close()
	r = runFlux(t, "", "trigger", "receiver", "push", "--token="+token, "--url="+refused.URL, "--retry-delay=10ms", kubeconfig)
	if r.code != 1 || strings.Count(r.stderr, "retrying") != 0 {
		t.Errorf("a refused webhook: exit %d, stderr %s", r.code, r.stderr)
	}
	wants(t, "stderr", r.stderr, "401 Unauthorized: X-Signature: HMAC mismatch")
	if strings.Contains(r.stderr, "/hook/") {
		t.Errorf("the webhook path (a credential of generic Receivers) is printed:\n%s", r.stderr)
	}
	for _, args := range [][]string{
		{"--url=http://x"},
		{"--token=t"},
		{"--token=t", "--url=http://x", "--type=github"},
		{"--token=t", "--url=http://x", "--payload={"},
	} {
		r := runFlux(t, "", append([]string{"trigger", "receiver", "x", kubeconfig}, args...)...)
		if r.code != 1 {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}
