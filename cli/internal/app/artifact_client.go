package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/pflag"

	"gotk.dev/pkg/oci"
)

// ociFlags are the registry flags every artifact command has.
type ociFlags struct {
	creds    string
	provider string
	insecure bool
}

func (f *ociFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.creds, "creds", "", "credentials for OCI registry in the format <username>[:<password>] if --provider is generic")
	fs.StringVar(&f.provider, "provider", "generic", "the OCI provider name, available options are: (generic)")
	fs.BoolVar(&f.insecure, "insecure-registry", false, "allows artifacts to be pushed without TLS")
}

// client builds the registry client: --creds when given (a user and password, or a bare
// registry token), else the docker config (~/.docker/config.json and its credential helpers).
func (f *ociFlags) client() (*oci.Client, error) {
	if f.provider != "generic" {
		return nil, fmt.Errorf("--provider=%s is not supported: only 'generic' (static credentials or the docker config) is", f.provider)
	}
	var kc authn.Keychain = authn.DefaultKeychain
	if f.creds != "" {
		user, pass, ok := strings.Cut(f.creds, ":")
		cfg := authn.AuthConfig{Username: user, Password: pass}
		if !ok {
			cfg = authn.AuthConfig{RegistryToken: f.creds}
		}
		if ok && user == "" {
			return nil, errors.New("invalid --creds: the user name is empty (want <username>[:<password>])")
		}
		kc = staticKeychain{cfg: cfg}
	}
	return oci.NewClient(oci.ClientOptions{Keychain: kc, Insecure: f.insecure, UserAgent: "flux/" + Version})
}

// staticKeychain answers every registry with the same credentials, as --creds means.
type staticKeychain struct{ cfg authn.AuthConfig }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(k.cfg), nil
}

// parseArtifactURL checks an "oci://host/repo[:tag|@digest]" argument and returns the
// reference without the scheme, for messages.
func parseArtifactURL(u string) (name.Reference, error) {
	s, ok := strings.CutPrefix(u, "oci://")
	if !ok {
		return nil, fmt.Errorf("invalid URL %q: it must be in format 'oci://<domain>/<org>/<repo>'", u)
	}
	if host, _, _ := strings.Cut(s, "/"); strings.Contains(host, "@") {
		// Not echoed: what precedes the @ is a user name and maybe a password.
		return nil, errors.New("invalid URL: credentials must not be part of the URL (use --creds)")
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", u, err)
	}
	return ref, nil
}
