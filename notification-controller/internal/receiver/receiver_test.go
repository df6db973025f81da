package receiver

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

const token = "receiver-token-0123"

func sign(h func() hash.Hash, key, body string) string {
	m := hmac.New(h, []byte(key))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func receiverOf(typ string, events ...string) *apiv1.Receiver {
	return &apiv1.Receiver{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "flux-system"},
		Spec: apiv1.ReceiverSpec{Type: typ, Events: events}}
}

func request(body string, headers map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hook/x", strings.NewReader(body))
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

const (
	githubPush   = `{"ref":"refs/heads/main","after":"731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"}`
	dockerhubMsg = `{"push_data":{"tag":"6.3.5"},"repository":{"repo_name":"stefanprodan/podinfo","repo_url":"https://hub.docker.com/r/stefanprodan/podinfo"}}`
	quayMsg      = `{"docker_url":"quay.io/org/app","updated_tags":["v1"]}`
	nexusMsg     = `{"action":"CREATED","repositoryName":"docker-hosted","component":{"name":"app","version":"v1"}}`
	acrMsg       = `{"id":"1","action":"push","target":{"repository":"app","tag":"v1"}}`
	cdeventMsg   = `{"context":{"id":"271069a8","type":"dev.cdevents.artifact.published.0.1.1","source":"/registry","specversion":"0.3.0","timestamp":"2024-01-01T00:00:00Z"},"subject":{"id":"pkg:oci/app@sha256:abc","content":{}}}`
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		rcv     *apiv1.Receiver
		body    string
		headers map[string]string
		want    int
		trigger bool
	}{
		{"generic accepts anything", receiverOf(apiv1.GenericReceiver), "anything", nil, 200, true},

		{"generic-hmac sha1", receiverOf(apiv1.GenericHMACReceiver), "payload", map[string]string{"X-Signature": "sha1=" + sign(sha1.New, token, "payload")}, 200, true},
		{"generic-hmac sha256", receiverOf(apiv1.GenericHMACReceiver), "payload", map[string]string{"X-Signature": "sha256=" + sign(sha256.New, token, "payload")}, 200, true},
		{"generic-hmac sha512", receiverOf(apiv1.GenericHMACReceiver), "payload", map[string]string{"X-Signature": "sha512=" + sign(sha512.New, token, "payload")}, 200, true},
		{"generic-hmac forged", receiverOf(apiv1.GenericHMACReceiver), "payload", map[string]string{"X-Signature": "sha256=" + sign(sha256.New, "wrong-key", "payload")}, 401, false},
		{"generic-hmac tampered body", receiverOf(apiv1.GenericHMACReceiver), "payload!", map[string]string{"X-Signature": "sha256=" + sign(sha256.New, token, "payload")}, 401, false},
		{"generic-hmac md5 refused", receiverOf(apiv1.GenericHMACReceiver), "payload", map[string]string{"X-Signature": "md5=00"}, 401, false},
		{"generic-hmac missing", receiverOf(apiv1.GenericHMACReceiver), "payload", nil, 401, false},

		{"github sha256 push", receiverOf(apiv1.GitHubReceiver, "ping", "push"), githubPush,
			map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, token, githubPush), "X-GitHub-Event": "push", "Content-Type": "application/json"}, 200, true},
		{"github legacy sha1", receiverOf(apiv1.GitHubReceiver), githubPush,
			map[string]string{"X-Hub-Signature": "sha1=" + sign(sha1.New, token, githubPush), "X-GitHub-Event": "push"}, 200, true},
		{"github forged", receiverOf(apiv1.GitHubReceiver), githubPush,
			map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, "attacker", githubPush), "X-GitHub-Event": "push"}, 401, false},
		{"github unsigned", receiverOf(apiv1.GitHubReceiver), githubPush, map[string]string{"X-GitHub-Event": "push"}, 401, false},
		{"github other event", receiverOf(apiv1.GitHubReceiver, "push"), githubPush,
			map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, token, githubPush), "X-GitHub-Event": "issues"}, 400, false},
		{"github ping", receiverOf(apiv1.GitHubReceiver, "push"), `{"zen":"x"}`,
			map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, token, `{"zen":"x"}`), "X-GitHub-Event": "ping"}, 200, false},
		{"github form payload", receiverOf(apiv1.GitHubReceiver), "payload=" + url.QueryEscape(githubPush),
			map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, token, "payload="+url.QueryEscape(githubPush)), "X-GitHub-Event": "push", "Content-Type": "application/x-www-form-urlencoded"}, 200, true},
		{"github not JSON", receiverOf(apiv1.GitHubReceiver), "nope",
			map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, token, "nope"), "X-GitHub-Event": "push"}, 400, false},

		{"gitlab push", receiverOf(apiv1.GitLabReceiver, "Push Hook"), "{}", map[string]string{"X-Gitlab-Token": token, "X-Gitlab-Event": "Push Hook"}, 200, true},
		{"gitlab wrong token", receiverOf(apiv1.GitLabReceiver), "{}", map[string]string{"X-Gitlab-Token": "guess", "X-Gitlab-Event": "Push Hook"}, 401, false},
		{"gitlab other event", receiverOf(apiv1.GitLabReceiver, "Push Hook"), "{}", map[string]string{"X-Gitlab-Token": token, "X-Gitlab-Event": "Issue Hook"}, 400, false},

		{"bitbucket push", receiverOf(apiv1.BitbucketReceiver, "repo:refs_changed"), "{}", map[string]string{"X-Hub-Signature": "sha256=" + sign(sha256.New, token, "{}"), "X-Event-Key": "repo:refs_changed"}, 200, true},
		{"bitbucket forged", receiverOf(apiv1.BitbucketReceiver), "{}", map[string]string{"X-Hub-Signature": "sha256=" + sign(sha256.New, "x", "{}"), "X-Event-Key": "repo:refs_changed"}, 401, false},
		{"bitbucket other event", receiverOf(apiv1.BitbucketReceiver, "repo:refs_changed"), "{}", map[string]string{"X-Hub-Signature": "sha256=" + sign(sha256.New, token, "{}"), "X-Event-Key": "pr:opened"}, 400, false},
		{"bitbucket ping", receiverOf(apiv1.BitbucketReceiver, "repo:refs_changed"), "{}", map[string]string{"X-Hub-Signature": "sha256=" + sign(sha256.New, token, "{}"), "X-Event-Key": "diagnostics:ping"}, 200, false},

		{"harbor", receiverOf(apiv1.HarborReceiver), "{}", map[string]string{"Authorization": token}, 200, true},
		{"harbor wrong", receiverOf(apiv1.HarborReceiver), "{}", map[string]string{"Authorization": "Bearer " + token}, 401, false},

		{"dockerhub", receiverOf(apiv1.DockerHubReceiver), dockerhubMsg, nil, 200, true},
		{"dockerhub wrong shape", receiverOf(apiv1.DockerHubReceiver), `{"foo":1}`, nil, 400, false},
		{"quay", receiverOf(apiv1.QuayReceiver), quayMsg, nil, 200, true},
		{"quay other notification", receiverOf(apiv1.QuayReceiver), `{"repository":"org/app","build_id":"1"}`, nil, 400, false},
		{"nexus", receiverOf(apiv1.NexusReceiver), nexusMsg, map[string]string{"X-Nexus-Webhook-Signature": sign(sha1.New, token, nexusMsg)}, 200, true},
		{"nexus forged", receiverOf(apiv1.NexusReceiver), nexusMsg, map[string]string{"X-Nexus-Webhook-Signature": sign(sha1.New, "x", nexusMsg)}, 401, false},
		{"nexus bad payload", receiverOf(apiv1.NexusReceiver), "{}", map[string]string{"X-Nexus-Webhook-Signature": sign(sha1.New, token, "{}")}, 400, false},
		{"acr", receiverOf(apiv1.ACRReceiver), acrMsg, nil, 200, true},
		{"acr wrong shape", receiverOf(apiv1.ACRReceiver), `[]`, nil, 400, false},
		{"cdevents", receiverOf(apiv1.CDEventsReceiver, "dev.cdevents.artifact.published.0.1.1"), cdeventMsg, map[string]string{"Ce-Type": "dev.cdevents.artifact.published.0.1.1"}, 200, true},
		{"cdevents other type", receiverOf(apiv1.CDEventsReceiver, "dev.cdevents.service.deployed.0.1.1"), cdeventMsg, nil, 400, false},
		{"cdevents header mismatch", receiverOf(apiv1.CDEventsReceiver), cdeventMsg, map[string]string{"Ce-Type": "dev.cdevents.other.0.1.0"}, 400, false},
		{"cdevents not a cdevent", receiverOf(apiv1.CDEventsReceiver), `{"context":{"type":"com.example"}}`, nil, 400, false},

		{"unknown type", receiverOf("carrier-pigeon"), "{}", nil, 400, false},
	}
	v := NewValidator(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := v.Validate(t.Context(), request(tt.body, tt.headers), Config{Receiver: tt.rcv, Token: token})
			if d.Status != tt.want || d.Trigger != tt.trigger {
				t.Errorf("Validate = %d trigger=%v (%s), want %d trigger=%v", d.Status, d.Trigger, d.Message, tt.want, tt.trigger)
			}
			if strings.Contains(d.Message, token) {
				t.Errorf("message leaks the token: %s", d.Message)
			}
			if d.Trigger && string(d.Payload) != tt.body {
				t.Error("the payload is not handed back for the resource filters")
			}
		})
	}
}

func TestValidateSuspendedAndLimits(t *testing.T) {
	v := NewValidator(Options{MaxBodyBytes: 16})
	rcv := receiverOf(apiv1.GenericReceiver)
	if d := v.Validate(t.Context(), request(strings.Repeat("x", 17), nil), Config{Receiver: rcv}); d.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", d.Status)
	}
	rcv.Spec.Suspend = true
	if d := v.Validate(t.Context(), request("{}", nil), Config{Receiver: rcv}); d.Status != http.StatusServiceUnavailable || d.Trigger {
		t.Errorf("suspended: %d %v", d.Status, d.Trigger)
	}
	// No token in the Secret: HMAC types refuse rather than accept an empty key.
	d := v.Validate(t.Context(), request("p", map[string]string{"X-Signature": "sha256=" + sign(sha256.New, "", "p")}), Config{Receiver: receiverOf(apiv1.GenericHMACReceiver)})
	if d.Status != http.StatusUnauthorized {
		t.Errorf("empty token: %d", d.Status)
	}
}

func TestWebhookPath(t *testing.T) {
	sum := sha256.Sum256([]byte("tok" + "name" + "ns"))
	if got := WebhookPath("tok", "name", "ns"); got != "/hook/"+hex.EncodeToString(sum[:]) {
		t.Errorf("WebhookPath = %s", got)
	}
}
