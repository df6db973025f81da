package cloudapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Metadata serves the GCE metadata server's default service account token.
type Metadata struct {
	counter
	// Host is host:port, the value of GCE_METADATA_HOST.
	Host string
	// Token is the access token it issues.
	Token string
	// Refuse makes the token endpoint answer 403 (no identity bound to the pod).
	Refuse atomic.Bool
}

// StartMetadata runs the server until the end of the test.
func StartMetadata(t testing.TB) *Metadata {
	m := &Metadata{Token: Secret("ya29.")}
	srv := httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(srv.Close)
	m.Host = strings.TrimPrefix(srv.URL, "http://")
	return m
}

func (m *Metadata) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Metadata-Flavor") != "Google" {
		http.Error(w, "missing Metadata-Flavor header", http.StatusForbidden)
		return
	}
	w.Header().Set("Metadata-Flavor", "Google")
	switch r.URL.Path {
	case "/computeMetadata/v1/instance/service-accounts/default/token":
		if m.Refuse.Load() {
			http.Error(w, "no service account is bound to this workload", http.StatusForbidden)
			return
		}
		m.add(func(c *Counts) { c.Metadata++ })
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": m.Token, "expires_in": 3599, "token_type": "Bearer"})
	case "/computeMetadata/v1/universe/universe-domain":
		_, _ = w.Write([]byte("googleapis.com"))
	case "/computeMetadata/v1/instance/attributes/cluster-name":
		_, _ = w.Write([]byte("gotk-cluster"))
	case "/computeMetadata/v1/instance/attributes/cluster-location":
		_, _ = w.Write([]byte("europe-west1"))
	case "/computeMetadata/v1/project/project-id":
		_, _ = w.Write([]byte("gotk-test"))
	case "/computeMetadata/v1/instance/service-accounts/default/email":
		_, _ = w.Write([]byte("flux@gotk-test.iam.gserviceaccount.com"))
	default:
		http.NotFound(w, r)
	}
}
