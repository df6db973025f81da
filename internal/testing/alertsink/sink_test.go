package alertsink

import (
	"context"
	"net/http"
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

func post(t *testing.T, s *Sink, key string, metadata map[string]string) int {
	t.Helper()
	code, err := Post(context.Background(), s.URL, key, eventv1.Event{Reason: "ReconciliationFailed", Metadata: metadata})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestSenders checks who may send what: the platform anything, a tenant only events naming
// itself, an unknown key nothing.
func TestSenders(t *testing.T) {
	s, err := Start(Options{Platform: "platform", Tenants: []string{"team-a", "team-b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name     string
		key      string
		metadata map[string]string
		want     int
	}{
		{"platform, own event", s.Key("platform"), nil, http.StatusAccepted},
		{"platform, for a tenant", s.Key("platform"), map[string]string{TenantKey: "team-a"}, http.StatusAccepted},
		{"tenant, own event", s.Key("team-b"), map[string]string{TenantKey: "team-b"}, http.StatusAccepted},
		{"tenant posing as another", s.Key("team-b"), map[string]string{TenantKey: "team-a"}, http.StatusForbidden},
		{"tenant posing as the platform", s.Key("team-b"), nil, http.StatusForbidden},
		{"unknown key", "not-a-key", nil, http.StatusUnauthorized},
	}
	for _, c := range cases {
		if got := post(t, s, c.key, c.metadata); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if n := s.Refusals(); n != 3 {
		t.Errorf("refusals %d, want 3", n)
	}
	got := s.Events()
	if len(got) != 3 || got[0].Sender != "platform" || got[2].Sender != "team-b" {
		t.Errorf("accepted %+v", got)
	}
	if s.Key("team-a") == s.Key("team-b") || s.Key("team-a") == s.Key("platform") {
		t.Error("senders share a key")
	}
}

// TestSeededKeys checks that a seeded sink derives the same keys again (a restarted dev
// server accepts the keys committed to its repository) and different ones per sender.
func TestSeededKeys(t *testing.T) {
	opts := Options{Platform: "platform", Tenants: []string{"team-a"}, Seed: "s3cret"}
	a, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Key("team-a") != b.Key("team-a") || a.Key("platform") != b.Key("platform") || a.Key("platform") == a.Key("team-a") {
		t.Fatalf("keys: %q %q / %q %q", a.Key("platform"), a.Key("team-a"), b.Key("platform"), b.Key("team-a"))
	}
	if got := post(t, b, a.Key("team-a"), map[string]string{TenantKey: "team-a"}); got != http.StatusAccepted {
		t.Fatalf("restarted sink answered %d to a key of the first", got)
	}
}

func TestKeyPlaceholders(t *testing.T) {
	s, err := Start(Options{Platform: "platform", Tenants: []string{"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.KeyPlaceholders("__KEY__")
	if len(got) != 2 || got["__KEY__"] != s.Key("platform") || got["__KEY_TEAM_A__"] != s.Key("team-a") {
		t.Fatalf("placeholders %v", got)
	}
}
