package cluster

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// TrustedIssuer is another cluster's service account issuer whose tokens an API server
// accepts: the spoke side of workload identity between clusters (upstream Flux's
// spec.kubeConfig.configMapRef with provider generic). The API server reads the issuer's
// keys from its published OpenID discovery document, the way a real cluster trusts an issuer
// published on a public endpoint.
//
// A token of service account <ns>/<name> of the issuing cluster authenticates as
// system:serviceaccount:<ns>:<name> (its sub claim): RBAC on the trusting cluster binds that
// user. (Adding the issuer's public key with --service-account-key-file does not work: the
// API server then looks the service account up by name and UID in its own store, and the
// other cluster's service account is not there.)
type TrustedIssuer struct {
	// URL is the issuer, the tokens' iss claim.
	URL string
	// DiscoveryURL is the address of its OpenID discovery document.
	DiscoveryURL string
	// CA is the PEM certificate that DiscoveryURL's server certificate is checked with.
	CA string
	// Audiences are the audiences a token must carry one of (a hub asks for the spoke's
	// address).
	Audiences []string
	// Subjects, when set, are the only service accounts of the issuer trusted
	// ("system:serviceaccount:<ns>:<name>"); the tokens of any other are refused (401).
	Subjects []string
}

// authenticationConfig is the API server's AuthenticationConfiguration
// (apiserver.config.k8s.io/v1), only the fields a trusted issuer needs.
type authenticationConfig struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	JWT        []jwtAuthority `json:"jwt"`
}

type jwtAuthority struct {
	Issuer struct {
		URL                  string   `json:"url"`
		DiscoveryURL         string   `json:"discoveryURL,omitempty"`
		CertificateAuthority string   `json:"certificateAuthority,omitempty"`
		Audiences            []string `json:"audiences"`
	} `json:"issuer"`
	ClaimValidationRules []claimValidationRule `json:"claimValidationRules,omitempty"`
	ClaimMappings        struct {
		Username struct {
			Claim  string `json:"claim"`
			Prefix string `json:"prefix"`
		} `json:"username"`
	} `json:"claimMappings"`
}

type claimValidationRule struct {
	Expression string `json:"expression"`
	Message    string `json:"message"`
}

// writeAuthenticationConfig writes the API server's authentication configuration trusting
// issuers into dir and returns its path.
func writeAuthenticationConfig(dir string, issuers []TrustedIssuer) (string, error) {
	cfg := authenticationConfig{APIVersion: "apiserver.config.k8s.io/v1", Kind: "AuthenticationConfiguration"}
	for _, iss := range issuers {
		var a jwtAuthority
		a.Issuer.URL, a.Issuer.DiscoveryURL, a.Issuer.CertificateAuthority = iss.URL, iss.DiscoveryURL, iss.CA
		a.Issuer.Audiences = iss.Audiences
		// The service account's own name, as the issuing cluster's RBAC knows it.
		a.ClaimMappings.Username.Claim = "sub"
		if len(iss.Subjects) > 0 {
			subjects, err := json.Marshal(iss.Subjects)
			if err != nil {
				return "", err
			}
			a.ClaimValidationRules = []claimValidationRule{{
				Expression: "claims.sub in " + string(subjects),
				Message:    "the service account is not trusted by this cluster",
			}}
		}
		cfg.JWT = append(cfg.JWT, a)
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "authentication-config.yaml")
	return path, os.WriteFile(path, b, 0o644)
}

// IssuerEndpoint publishes a cluster's service account issuer (its OpenID discovery
// document and signing keys, as the API server serves them) over HTTPS on 127.0.0.1, where
// other clusters' API servers can read it without credentials.
type IssuerEndpoint struct {
	server *httptest.Server
	issuer string
}

// PublishIssuer starts an IssuerEndpoint for c. The keys are read once: a local cluster
// never rotates them.
func (c *Cluster) PublishIssuer(ctx context.Context) (*IssuerEndpoint, error) {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	rc := cs.Discovery().RESTClient()
	rawDoc, err := rc.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the issuer's discovery document: %w", err)
	}
	jwks, err := rc.Get().AbsPath("/openid/v1/jwks").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the issuer's keys: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(rawDoc, &doc); err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	mux := http.NewServeMux()
	e := &IssuerEndpoint{issuer: fmt.Sprint(doc["issuer"]), server: httptest.NewUnstartedServer(mux)}
	e.server.StartTLS()
	// The keys are here, not at the issuer's own (cluster-internal) address.
	doc["jwks_uri"] = e.server.URL + "/openid/v1/jwks"
	published, err := json.Marshal(doc)
	if err != nil {
		e.server.Close()
		return nil, err
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(published)
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwks)
	})
	return e, nil
}

// Trust is what a cluster that accepts this issuer's tokens for audiences is started with
// (Options.TrustedIssuers).
func (e *IssuerEndpoint) Trust(audiences ...string) TrustedIssuer {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.server.Certificate().Raw})
	return TrustedIssuer{URL: e.issuer, DiscoveryURL: e.server.URL + "/.well-known/openid-configuration", CA: string(ca), Audiences: audiences}
}

// Close stops publishing.
func (e *IssuerEndpoint) Close() { e.server.Close() }
