package controller

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/internal/receiver"
)

// newReceiver is a Receiver of type typ in ns whose token Secret is name+"-token".
func newReceiver(ns, name, typ string, resources ...apiv1.ReceiverResource) *apiv1.Receiver {
	return &apiv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: apiv1.ReceiverSpec{Type: typ, Resources: resources,
			SecretRef: &meta.LocalObjectReference{Name: name + "-token"}},
	}
}

func resource(kind, name string) apiv1.ReceiverResource {
	return apiv1.ReceiverResource{CrossNamespaceObjectReference: apiv1.CrossNamespaceObjectReference{Kind: kind, Name: name}}
}

// waitReceiver waits until the Receiver's Ready condition has status and reason, and returns it.
func waitReceiver(t *testing.T, rcv *apiv1.Receiver, status metav1.ConditionStatus, reason string) *apiv1.Receiver {
	t.Helper()
	got := rcv.DeepCopy()
	eventually(t, "Receiver "+rcv.Name+" Ready="+string(status)+"/"+reason, func() bool {
		get(t, got)
		c := conditionOf(got.Status.Conditions, meta.ReadyCondition)
		return c != nil && c.Status == status && c.Reason == reason && got.Status.ObservedGeneration == got.Generation
	})
	return got
}

// hook POSTs body to the webhook receiver server at path with headers.
func hook(t *testing.T, path string, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+suiteEnv.nc.Webhooks.Addr()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func hmacSHA256(token string, body []byte) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestReceiverReadyPublishesWebhookPath(t *testing.T) {
	ns := newNamespace(t)
	createSecret(t, ns, "hmac-token", map[string]string{"token": "s3cr3t"})
	rcv := newReceiver(ns, "hmac", apiv1.GenericHMACReceiver, resource("GitRepository", "app"))
	create(t, rcv)
	got := waitReceiver(t, rcv, metav1.ConditionTrue, meta.SucceededReason)
	want := receiver.WebhookPath("s3cr3t", "hmac", ns)
	if got.Status.WebhookPath != want {
		t.Errorf("status.webhookPath = %q, want %q", got.Status.WebhookPath, want)
	}
	if c := conditionOf(got.Status.Conditions, meta.ReadyCondition); c.Message != "Receiver initialised for path: "+want {
		t.Errorf("Ready message = %q", c.Message)
	}
	if strings.Contains(want, "s3cr3t") || strings.Contains(conditionOf(got.Status.Conditions, meta.ReadyCondition).Message, "s3cr3t") {
		t.Error("the token leaks into the status")
	}
}

func TestReceiverTokenNotFoundThenFound(t *testing.T) {
	ns := newNamespace(t)
	rcv := newReceiver(ns, "late", apiv1.GenericReceiver, resource("GitRepository", "app"))
	create(t, rcv)
	eventually(t, "TokenNotFound", func() bool {
		got := rcv.DeepCopy()
		get(t, got)
		ready := conditionOf(got.Status.Conditions, meta.ReadyCondition)
		reconciling := conditionOf(got.Status.Conditions, meta.ReconcilingCondition)
		return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == apiv1.TokenNotFoundReason &&
			strings.Contains(ready.Message, "'"+ns+"/late-token'") &&
			reconciling != nil && reconciling.Reason == meta.ProgressingWithRetryReason
	})
	waitWarning(t, ns, apiv1.ReceiverKind, "late", "unable to read token")
	// The retry (backoff, not the interval) picks up the Secret once it exists.
	createSecret(t, ns, "late-token", map[string]string{"token": "t"})
	got := waitReceiver(t, rcv, metav1.ConditionTrue, meta.SucceededReason)
	if conditionOf(got.Status.Conditions, meta.ReconcilingCondition) != nil {
		t.Error("Reconciling is left beside Ready=True")
	}
}

func TestReceiverInvalidSpecStalls(t *testing.T) {
	ns := newNamespace(t)
	createSecret(t, ns, "cel-token", map[string]string{"token": "t"})
	createSecret(t, ns, "cross-token", map[string]string{"token": "t"})
	createSecret(t, ns, "oidc-token", map[string]string{"token": "t"})

	cel := newReceiver(ns, "cel", apiv1.GenericReceiver, resource("GitRepository", "*"))
	cel.Spec.ResourceFilter = "res.metadata.name =="
	create(t, cel)
	got := waitReceiver(t, cel, metav1.ConditionFalse, apiv1.InvalidCELExpressionReason)
	if c := conditionOf(got.Status.Conditions, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue ||
		!strings.Contains(c.Message, "spec.resourceFilter") {
		t.Errorf("Stalled = %+v, want True naming spec.resourceFilter", c)
	}

	other := resource("GitRepository", "app")
	other.Namespace = "another-tenant"
	cross := newReceiver(ns, "cross", apiv1.GenericReceiver, other)
	create(t, cross)
	got = waitReceiver(t, cross, metav1.ConditionFalse, apiv1.ValidationFailedReason)
	if c := conditionOf(got.Status.Conditions, meta.ReadyCondition); !strings.Contains(c.Message, "cross-namespace") {
		t.Errorf("Ready message = %q, want the cross-namespace reference named", c.Message)
	}
	if got.Status.WebhookPath != "" {
		t.Errorf("a Receiver refused for --no-cross-namespace-refs publishes %q", got.Status.WebhookPath)
	}

	oidc := newReceiver(ns, "oidc", apiv1.GenericOIDCReceiver, resource("GitRepository", "app"))
	oidc.Spec.SecretRef = nil
	oidc.Spec.OIDCProviders = []apiv1.OIDCProvider{{IssuerURL: "https://token.actions.githubusercontent.com",
		Validations: []apiv1.OIDCValidation{{Expression: "true", Message: "any"}}}}
	create(t, oidc)
	waitReceiver(t, oidc, metav1.ConditionFalse, apiv1.ValidationFailedReason)
}

func TestWebhookAnnotatesResources(t *testing.T) {
	ns := newNamespace(t)
	named := gitRepository(t, ns, "app", map[string]string{"team": "a"})
	labelled := gitRepository(t, ns, "infra", map[string]string{"team": "b"})
	untouched := gitRepository(t, ns, "other", map[string]string{"team": "c"})
	byLabel := resource("GitRepository", "*")
	byLabel.MatchLabels = map[string]string{"team": "b"}
	byLabel.APIVersion = "source.toolkit.fluxcd.io/v1"
	createSecret(t, ns, "push-token", map[string]string{"token": "s3cr3t"})
	rcv := newReceiver(ns, "push", apiv1.GenericHMACReceiver, resource("GitRepository", "app"), byLabel)
	create(t, rcv)
	path := waitReceiver(t, rcv, metav1.ConditionTrue, meta.SucceededReason).Status.WebhookPath

	// Another controller's annotation and the spec stay as they are: only requestedAt is patched.
	before := named.DeepCopy()
	get(t, before)
	before.SetAnnotations(map[string]string{"example.com/keep": "yes"})
	if err := suiteEnv.env.Client.Update(context.Background(), before); err != nil {
		t.Fatal(err)
	}

	body := []byte(`{"ref":"refs/heads/main"}`)
	if code, msg := hook(t, path, body, map[string]string{"X-Signature": hmacSHA256("s3cr3t", body)}); code != http.StatusOK {
		t.Fatalf("signed webhook: %d %s", code, msg)
	}
	for _, u := range []*unstructured.Unstructured{named, labelled} {
		at := requestedAt(t, u)
		if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
			t.Errorf("%s requestedAt = %q, want an RFC 3339 time", u.GetName(), at)
		}
	}
	if at := requestedAt(t, untouched); at != "" {
		t.Errorf("a GitRepository the Receiver does not select was annotated: %q", at)
	}
	after := named.DeepCopy()
	get(t, after)
	if after.GetAnnotations()["example.com/keep"] != "yes" {
		t.Errorf("annotations after the webhook = %v: another annotation was lost", after.GetAnnotations())
	}
	if spec, _, _ := unstructured.NestedMap(after.Object, "spec"); spec["url"] != "https://example.com/repo.git" {
		t.Errorf("spec changed: %v", spec)
	}
}

func TestForgedWebhookTriggersNothing(t *testing.T) {
	ns := newNamespace(t)
	repo := gitRepository(t, ns, "app", nil)
	createSecret(t, ns, "push-token", map[string]string{"token": "s3cr3t"})
	rcv := newReceiver(ns, "push", apiv1.GenericHMACReceiver, resource("GitRepository", "app"))
	create(t, rcv)
	path := waitReceiver(t, rcv, metav1.ConditionTrue, meta.SucceededReason).Status.WebhookPath

	createSecret(t, ns, "gh-token", map[string]string{"token": "s3cr3t"})
	gh := newReceiver(ns, "gh", apiv1.GitHubReceiver, resource("GitRepository", "app"))
	gh.Spec.Events = []string{"push"}
	create(t, gh)
	ghPath := waitReceiver(t, gh, metav1.ConditionTrue, meta.SucceededReason).Status.WebhookPath

	body := []byte(`{"ref":"refs/heads/main"}`)
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"no signature", path, nil, http.StatusUnauthorized},
		{"signed with another key", path, map[string]string{"X-Signature": hmacSHA256("guess", body)}, http.StatusUnauthorized},
		{"signature of another body", path, map[string]string{"X-Signature": hmacSHA256("s3cr3t", []byte("{}"))}, http.StatusUnauthorized},
		{"unknown path", "/hook/" + strings.Repeat("0", 64), map[string]string{"X-Signature": hmacSHA256("s3cr3t", body)}, http.StatusNotFound},
		{"path salted with a guessed token", receiver.WebhookPath("guess", "push", ns), nil, http.StatusNotFound},
		{"github event not listed", ghPath, map[string]string{"X-GitHub-Event": "issues",
			"X-Hub-Signature-256": hmacSHA256("s3cr3t", body)}, http.StatusBadRequest},
	} {
		if code, msg := hook(t, tc.path, body, tc.headers); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, msg, tc.want)
		}
	}
	if at := requestedAt(t, repo); at != "" {
		t.Fatalf("a refused webhook annotated the GitRepository: %q", at)
	}

	// A rotated token retires the old path at once, before the Receiver is reconciled again.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "push-token"}}
	get(t, secret)
	secret.StringData = map[string]string{"token": "rotated"}
	if err := suiteEnv.env.Client.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	if code, _ := hook(t, path, body, map[string]string{"X-Signature": hmacSHA256("s3cr3t", body)}); code != http.StatusNotFound {
		t.Errorf("old path after the token was rotated: %d, want 404", code)
	}
	if at := requestedAt(t, repo); at != "" {
		t.Fatalf("a webhook signed with the rotated-out token annotated the GitRepository: %q", at)
	}
}

func TestSuspendedReceiverTriggersNothing(t *testing.T) {
	ns := newNamespace(t)
	repo := gitRepository(t, ns, "app", nil)
	createSecret(t, ns, "push-token", map[string]string{"token": "t"})
	rcv := newReceiver(ns, "push", apiv1.GenericReceiver, resource("GitRepository", "app"))
	create(t, rcv)
	path := waitReceiver(t, rcv, metav1.ConditionTrue, meta.SucceededReason).Status.WebhookPath
	get(t, rcv)
	rcv.Spec.Suspend = true
	if err := suiteEnv.env.Client.Update(context.Background(), rcv); err != nil {
		t.Fatal(err)
	}
	// The server reads the Receiver from the cache: wait for it to see the suspension.
	eventually(t, "the suspension in the cache", func() bool {
		var got apiv1.Receiver
		return suiteEnv.rt.Manager.GetClient().Get(context.Background(), client.ObjectKeyFromObject(rcv), &got) == nil && got.Spec.Suspend
	})
	if code, _ := hook(t, path, []byte("{}"), nil); code != http.StatusServiceUnavailable {
		t.Errorf("suspended Receiver answered %d, want 503", code)
	}
	if at := requestedAt(t, repo); at != "" {
		t.Fatalf("a suspended Receiver annotated the GitRepository: %q", at)
	}
}
