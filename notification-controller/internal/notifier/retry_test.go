package notifier

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"gotk.dev/notification-controller/api/v1beta3"
)

var fastRetry = RetryPolicy{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func TestRetryTransientThenSuccess(t *testing.T) {
	var calls atomic.Int32
	srv := newFakeAPI(t, func(*http.Request) (int, string) {
		if calls.Add(1) < 3 {
			return http.StatusBadGateway, "upstream down"
		}
		return http.StatusOK, "{}"
	})
	n := WithRetry(mustNew(t, Options{Type: v1beta3.GenericProvider, Address: srv.URL}), fastRetry)
	post(t, n, testEvent(eventv1.EventSeverityInfo))
	expect(t, "attempts", calls.Load(), int32(3))
}

func TestRetryGivesUpAndSkips4xx(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   int32
	}{{http.StatusServiceUnavailable, 3}, {http.StatusBadRequest, 1}, {http.StatusUnauthorized, 1}, {http.StatusTooManyRequests, 1}} {
		var calls atomic.Int32
		srv := newFakeAPI(t, func(*http.Request) (int, string) { calls.Add(1); return tt.status, "" })
		n := WithRetry(mustNew(t, Options{Type: v1beta3.GenericProvider, Address: srv.URL}), fastRetry)
		err := n.Post(t.Context(), testEvent(eventv1.EventSeverityInfo))
		if err == nil {
			t.Fatalf("status %d: no error", tt.status)
		}
		if calls.Load() != tt.want {
			t.Errorf("status %d: %d attempts, want %d", tt.status, calls.Load(), tt.want)
		}
	}
}

func TestRetryNetworkErrorAndCancel(t *testing.T) {
	srv := newFakeAPI(t, nil)
	addr := srv.URL
	srv.Close() // connection refused from now on
	n := WithRetry(mustNew(t, Options{Type: v1beta3.GenericProvider, Address: addr}), RetryPolicy{Attempts: 50, Backoff: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := n.Post(ctx, testEvent(eventv1.EventSeverityInfo))
	if err == nil || !IsRetryable(err) && ctx.Err() == nil {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("retries ignored the context: %v", time.Since(start))
	}
}

// TestErrorsCarryNoSecrets: failures name the endpoint's scheme and host only, never the
// path, query, userinfo, token or password.
func TestErrorsCarryNoSecrets(t *testing.T) {
	srv := newFakeAPI(t, func(r *http.Request) (int, string) {
		// A hostile or careless server echoing the credentials back.
		return http.StatusForbidden, "denied for " + r.Header.Get("Authorization") + " at " + r.URL.String()
	})
	secretURL := strings.Replace(srv.URL, "http://", "http://user:url-password@", 1) + "/services/T000/B000/SECRETPATH?sig=SIGNATURE"
	for _, o := range []Options{
		{Type: v1beta3.SlackProvider, Address: secretURL, Token: "xoxb-very-secret"},
		{Type: v1beta3.TelegramProvider, Address: srv.URL, Channel: "c", Token: "123456:TELEGRAMTOKEN"},
		{Type: v1beta3.GitHubProvider, Address: srv.URL + "/o/r", Token: "ghp_SECRETTOKEN", ProviderUID: "u"},
	} {
		err := mustNew(t, o).Post(t.Context(), testEvent(eventv1.EventSeverityInfo))
		if err == nil {
			t.Fatalf("%s: no error", o.Type)
		}
		for _, secret := range []string{"url-password", "SECRETPATH", "SIGNATURE", "xoxb-very-secret", "TELEGRAMTOKEN", "ghp_SECRETTOKEN", "user:"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error leaks %q: %v", o.Type, secret, err)
			}
		}
		if !strings.Contains(err.Error(), "403") {
			t.Errorf("%s: error lost the status: %v", o.Type, err)
		}
	}
	closed := newFakeAPI(t, nil)
	addr := closed.URL + "/hook/SECRETPATH"
	closed.Close()
	err := mustNew(t, Options{Type: v1beta3.GenericProvider, Address: addr}).Post(t.Context(), testEvent(eventv1.EventSeverityInfo))
	if err == nil || strings.Contains(err.Error(), "SECRETPATH") {
		t.Errorf("network error leaks the path or is nil: %v", err)
	}
}

func TestProxyAndCustomCA(t *testing.T) {
	// TLS endpoint with its own CA, reached through an HTTP proxy that counts CONNECTs.
	tlsSrv := newTLSFakeAPI(t)
	var connects atomic.Int32
	proxy := newConnectProxy(t, &connects)

	o := Options{Type: v1beta3.GenericProvider, Address: tlsSrv.URL, ProxyURL: proxy, CAData: tlsSrv.caPEM}
	post(t, mustNew(t, o), testEvent(eventv1.EventSeverityInfo))
	expect(t, "CONNECTs through the proxy", connects.Load(), int32(1))

	o.CAData = nil
	if err := mustNew(t, o).Post(t.Context(), testEvent(eventv1.EventSeverityInfo)); err == nil {
		t.Error("a server signed by an unknown CA was trusted")
	}
}

func TestTimeout(t *testing.T) {
	srv := newFakeAPI(t, func(*http.Request) (int, string) { time.Sleep(300 * time.Millisecond); return 200, "{}" })
	n := mustNew(t, Options{Type: v1beta3.GenericProvider, Address: srv.URL, Timeout: 50 * time.Millisecond})
	start := time.Now()
	if err := n.Post(t.Context(), testEvent(eventv1.EventSeverityInfo)); err == nil {
		t.Fatal("a slow provider did not time out")
	}
	if time.Since(start) > 250*time.Millisecond {
		t.Errorf("timeout not honoured: %v", time.Since(start))
	}
}

func TestPrepareEvent(t *testing.T) {
	ev := eventv1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization"}, Metadata: map[string]string{"env": "from-emitter"}}
	alert := &v1beta3.Alert{Spec: v1beta3.AlertSpec{Summary: "us-east-2", EventMetadata: map[string]string{"env": "prod", "cluster": "c1"}}}
	got, conflicts := PrepareEvent(ev, alert)
	expect(t, "summary", got.Metadata["summary"], "us-east-2")
	expect(t, "cluster", got.Metadata["cluster"], "c1")
	expect(t, "env kept", got.Metadata["env"], "from-emitter")
	if len(conflicts) != 1 || conflicts[0] != "env" {
		t.Errorf("conflicts = %v", conflicts)
	}
	expect(t, "input untouched", len(ev.Metadata), 1)
}

func TestFromProvider(t *testing.T) {
	p := &v1beta3.Provider{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: types.UID("abc-def")},
		Spec: v1beta3.ProviderSpec{Type: "slack", Address: "https://spec.example.com", Username: "spec-user",
			Proxy: "http://spec-proxy:3128", Channel: "general", CommitStatusExpr: "x"},
	}
	o, err := FromProvider(p, map[string][]byte{
		"address": []byte("https://hooks.slack.com/services/x\n"), "token": []byte("tok"), "username": []byte("secret-user"),
		"password": []byte("pw"), "headers": []byte("X-A: a\nX-B: b\n"),
	}, map[string][]byte{"ca.crt": []byte("CA")}, map[string][]byte{"address": []byte("http://proxy:8080"), "username": []byte("pu"), "password": []byte("pp")})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "address", o.Address, "https://hooks.slack.com/services/x")
	expect(t, "username", o.Username, "secret-user")
	expect(t, "token", o.Token, "tok")
	expect(t, "header", o.Headers["X-B"], "b")
	expect(t, "proxy", o.ProxyURL, "http://pu:pp@proxy:8080")
	expect(t, "ca", string(o.CAData), "CA")
	expect(t, "timeout", o.Timeout, 15*time.Second)
	expect(t, "uid", o.ProviderUID, "abc-def")

	_, err = FromProvider(p, map[string][]byte{"headers": []byte("- not\n- a map: SECRET")}, nil, nil)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("bad headers: %v", err)
	}
	_, err = FromProvider(p, nil, map[string][]byte{"tls.crt": []byte("c")}, nil)
	if err == nil {
		t.Error("tls.crt without tls.key accepted")
	}
}
