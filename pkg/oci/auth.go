package oci

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// dockerConfig is the part of a .dockerconfigjson document the keychain uses. Credential
// helpers (credsStore, credHelpers) cannot run in a controller and are ignored.
type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// credential is one auths entry: a registry host, an optional repository path prefix, and
// what to authenticate with.
type credential struct {
	key        string
	host, path string
	auth       authn.AuthConfig
}

// dockerKeychain resolves credentials from parsed docker configs. It is immutable.
type dockerKeychain struct {
	creds []credential
}

// KeychainFromDockerConfigs builds a keychain from the .dockerconfigjson values of one or more
// Secrets (spec.secretRef, then a ServiceAccount's imagePullSecrets). Registry keys may carry a
// scheme ("https://ghcr.io"), a trailing /v1/ or /v2/, or a repository path prefix
// ("ghcr.io/org"); Docker Hub is matched under docker.io, index.docker.io and
// registry-1.docker.io. The most specific path wins; on a tie the earlier config wins.
// Unknown registries resolve to anonymous access.
func KeychainFromDockerConfigs(data ...[]byte) (authn.Keychain, error) {
	kc := &dockerKeychain{}
	for i, d := range data {
		creds, err := parseDockerConfig(d)
		if err != nil {
			return nil, fmt.Errorf("docker config %d of %d: %w", i+1, len(data), err)
		}
		kc.creds = append(kc.creds, creds...)
	}
	return kc, nil
}

func parseDockerConfig(data []byte) ([]credential, error) {
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		// encoding/json errors may quote bytes of the input; say where, not what.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, fmt.Errorf("invalid JSON at byte offset %d", syn.Offset)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("invalid JSON: field %q has the wrong type", typ.Field)
		}
		return nil, errors.New("invalid JSON")
	}
	creds := make([]credential, 0, len(cfg.Auths))
	for key, a := range cfg.Auths {
		host, path, err := parseRegistryKey(key)
		if err != nil {
			return nil, err
		}
		ac := authn.AuthConfig{
			Username:      a.Username,
			Password:      a.Password,
			IdentityToken: a.IdentityToken,
			RegistryToken: a.RegistryToken,
		}
		if a.Auth != "" {
			ac.Username, ac.Password, err = decodeAuthField(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("registry %q: %w", key, err)
			}
		}
		if ac == (authn.AuthConfig{}) {
			return nil, fmt.Errorf("registry %q: no auth, username/password or token", key)
		}
		creds = append(creds, credential{key: key, host: host, path: path, auth: ac})
	}
	// Map order is random; sort so that resolution is deterministic.
	sortCredentials(creds)
	return creds, nil
}

// decodeAuthField decodes base64("username:password") (padded or not). Errors never include
// the decoded text.
func decodeAuthField(s string) (user, pass string, err error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return "", "", errors.New(`the "auth" field is not valid base64`)
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok || user == "" {
		return "", "", errors.New(`the "auth" field must be base64("username:password")`)
	}
	return user, pass, nil
}

// parseRegistryKey splits an auths key into a normalized host and repository path prefix.
func parseRegistryKey(key string) (host, path string, err error) {
	s := strings.TrimSpace(key)
	lower := strings.ToLower(s)
	for _, scheme := range []string{"https://", "http://"} {
		if strings.HasPrefix(lower, scheme) {
			s = s[len(scheme):]
			break
		}
	}
	host, path, _ = strings.Cut(s, "/")
	path = strings.Trim(path, "/")
	if path == "v1" || path == "v2" {
		path = "" // the Docker Hub key is https://index.docker.io/v1/
	}
	if host == "" || strings.ContainsAny(host, " @") {
		return "", "", fmt.Errorf("invalid registry %q in auths", key)
	}
	return normalizeHost(host), path, nil
}

// normalizeHost lowercases and maps Docker Hub's aliases to the name go-containerregistry uses.
func normalizeHost(h string) string {
	h = strings.ToLower(h)
	switch h {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return name.DefaultRegistry
	}
	return h
}

// sortCredentials orders one config's entries by host, path and then the original key (two
// keys can normalize to the same registry, e.g. docker.io and https://index.docker.io/v1/).
func sortCredentials(creds []credential) {
	slices.SortFunc(creds, func(a, b credential) int {
		return cmp.Or(cmp.Compare(a.host, b.host), cmp.Compare(a.path, b.path), cmp.Compare(a.key, b.key))
	})
}

// Resolve implements authn.Keychain.
func (k *dockerKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	host := normalizeHost(target.RegistryStr())
	repo := strings.TrimPrefix(target.String(), target.RegistryStr())
	repo = strings.TrimPrefix(repo, "/")
	best := -1
	for i, c := range k.creds {
		if c.host != host {
			continue
		}
		if c.path != "" && repo != c.path && !strings.HasPrefix(repo, c.path+"/") {
			continue
		}
		if best < 0 || len(c.path) > len(k.creds[best].path) {
			best = i
		}
	}
	if best < 0 {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(k.creds[best].auth), nil
}
