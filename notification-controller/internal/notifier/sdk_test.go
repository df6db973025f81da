package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"gotk.dev/notification-controller/api/v1beta3"
)

// startNATS runs a real NATS server in-process on 127.0.0.1 with user/password auth.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, Username: "flux", Password: "nats-pass", NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func TestNATS(t *testing.T) {
	s := startNATS(t)
	sub, err := natsgo.Connect(s.ClientURL(), natsgo.UserInfo("flux", "nats-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs := make(chan *natsgo.Msg, 1)
	if _, err := sub.ChanSubscribe("flux.events", msgs); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}

	n := mustNew(t, Options{Type: v1beta3.NATSProvider, Address: s.ClientURL(), Channel: "flux.events",
		Username: "flux", Password: "nats-pass"}) // no timeout set: the default applies
	defer n.(Closer).Close()
	post(t, n, testEvent(eventv1.EventSeverityInfo))
	select {
	case m := <-msgs:
		var ev eventv1.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		expect(t, "name", ev.InvolvedObject.Name, "webapp")
	case <-time.After(10 * time.Second):
		t.Fatal("no message on the subject")
	}

	// A wrong password is refused, and the password appears nowhere in the error.
	bad := mustNew(t, Options{Type: v1beta3.NATSProvider, Address: s.ClientURL(), Channel: "flux.events",
		Username: "flux", Password: "wrong-password", Timeout: 5 * time.Second})
	err = bad.Post(t.Context(), testEvent(eventv1.EventSeverityInfo))
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestGooglePubSub(t *testing.T) {
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	defer srv.Close()
	if _, err := srv.GServer.CreateTopic(context.Background(), &pubsubpb.Topic{Name: "projects/my-project/topics/flux"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	n := mustNew(t, Options{Type: v1beta3.GooglePubSubProvider, Address: "my-project", Channel: "flux",
		Headers: map[string]string{"cluster": "prod"}})
	defer n.(Closer).Close()
	post(t, n, testEvent(eventv1.EventSeverityError))
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("topic got %d messages, want 1", len(msgs))
	}
	expect(t, "attribute", msgs[0].Attributes["cluster"], "prod")
	var ev eventv1.Event
	if err := json.Unmarshal(msgs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	expect(t, "severity", ev.Severity, "error")
}

// TestSentry runs the Sentry SDK against a server standing in for sentry.io: an error event
// and, for info, a transaction, both as envelopes authenticated with the DSN's key.
func TestSentry(t *testing.T) {
	srv := newFakeAPI(t, func(*http.Request) (int, string) { return http.StatusOK, `{"id":"x"}` })
	dsn := strings.Replace(srv.URL, "http://", "http://public-key@", 1) + "/42"
	n := mustNew(t, Options{Type: v1beta3.SentryProvider, Address: dsn, Channel: "staging", Timeout: 5 * time.Second})

	post(t, n, testEvent(eventv1.EventSeverityError))
	post(t, n, testEvent(eventv1.EventSeverityInfo))
	reqs := srv.all()
	if len(reqs) != 2 {
		t.Fatalf("Sentry got %d requests, want 2", len(reqs))
	}
	for i, wantType := range []string{`"type":"event"`, `"type":"transaction"`} {
		c := reqs[i]
		expect(t, "path", c.path, "/api/42/envelope/")
		if !strings.Contains(c.header.Get("X-Sentry-Auth"), "sentry_key=public-key") {
			t.Errorf("X-Sentry-Auth = %q", c.header.Get("X-Sentry-Auth"))
		}
		lines := strings.Split(string(c.body), "\n")
		if len(lines) < 3 || !strings.Contains(lines[1], wantType) {
			t.Fatalf("envelope %d has no %s item: %s", i, wantType, c.body)
		}
		var item map[string]any
		if err := json.Unmarshal([]byte(lines[2]), &item); err != nil {
			t.Fatal(err)
		}
		expect(t, "environment", item["environment"], "staging")
		if i == 0 {
			expect(t, "message", item["message"], testEvent("error").Message)
			expect(t, "level", item["level"], "error")
			expect(t, "metadata", dig(t, item, "contexts", "metadata", "summary"), "prod cluster")
		} else {
			expect(t, "transaction", item["transaction"], "kustomization/webapp.apps")
			expect(t, "span tag", dig(t, item, "spans", 0, "tags", "revision"), "main@sha1:"+testSHA)
		}
	}

	failing := newFakeAPI(t, func(*http.Request) (int, string) { return http.StatusInternalServerError, "" })
	n = mustNew(t, Options{Type: v1beta3.SentryProvider, Address: strings.Replace(failing.URL, "http://", "http://k3y@", 1) + "/1"})
	if err := n.Post(t.Context(), testEvent(eventv1.EventSeverityError)); err == nil || !IsRetryable(err) {
		t.Fatalf("a 500 from Sentry gave %v, want a retryable error", err)
	}
}

// TestAzureEventHub has no Event Hubs server to talk to (there is no local one): it checks
// the configuration rules and that a failed connection names no part of the SAS key.
func TestAzureEventHub(t *testing.T) {
	for _, o := range []Options{
		{Type: v1beta3.AzureEventHubProvider},
		{Type: v1beta3.AzureEventHubProvider, Token: "jwt", Address: "hub"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	if _, err := New(Options{Type: v1beta3.AzureEventHubProvider, Token: "jwt", Address: "hub", Channel: "ns"}); err != nil {
		t.Errorf("JWT configuration refused: %v", err)
	}
	conn := "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=root;SharedAccessKey=c2VjcmV0LWtleQ==;EntityPath=hub"
	n := mustNew(t, Options{Type: v1beta3.AzureEventHubProvider, Address: conn})
	defer n.(Closer).Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := n.Post(ctx, testEvent(eventv1.EventSeverityInfo))
	if err == nil {
		t.Fatal("sending to a closed port succeeded")
	}
	t.Logf("error: %v", err)
	if strings.Contains(err.Error(), "c2VjcmV0LWtleQ") {
		t.Errorf("error leaks the SAS key: %v", err)
	}
}
