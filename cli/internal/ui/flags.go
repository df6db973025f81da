package ui

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Environment variables that carry secrets instead of files (e.g. from a Secret's env).
const (
	EnvOIDCClientSecret = "FLUX_UI_OIDC_CLIENT_SECRET"
	EnvSessionSecret    = "FLUX_UI_SESSION_SECRET"
)

// SignInFlags are the sign-in flags of the in-cluster mode, shared by `flux ui --in-cluster`
// and the flux-ui component. The --oidc-* names and meanings follow kube-apiserver's.
type SignInFlags struct {
	oidc              OIDCOptions
	clientSecretFile  string
	sessionSecretFile string
	sessionTTL        time.Duration
}

// AddTo registers the flags.
func (f *SignInFlags) AddTo(fs *pflag.FlagSet) {
	fs.StringVar(&f.oidc.IssuerURL, "oidc-issuer-url", "", "the URL of the OpenID Connect provider; enables OIDC sign-in (authorization code with PKCE)")
	fs.StringVar(&f.oidc.ClientID, "oidc-client-id", "", "the client ID registered with the OIDC provider")
	fs.StringVar(&f.clientSecretFile, "oidc-client-secret-file", "", "a file holding the client secret (or set "+EnvOIDCClientSecret+"); none for a public client")
	fs.StringVar(&f.oidc.RedirectURL, "oidc-redirect-url", "", "the callback URL registered with the provider (default <scheme>://<host of the request>"+callbackPath+")")
	fs.StringSliceVar(&f.oidc.Scopes, "oidc-scopes", nil, "the scopes to request (default openid,profile,email, plus groups when --oidc-groups-claim=groups)")
	fs.StringVar(&f.oidc.UsernameClaim, "oidc-username-claim", "sub", "the ID token claim used as the Kubernetes user name")
	fs.StringVar(&f.oidc.UsernamePrefix, "oidc-username-prefix", "", "put before the user name; by default claims other than email get '<issuer URL>#', '-' disables prefixing")
	fs.StringVar(&f.oidc.GroupsClaim, "oidc-groups-claim", "", "the ID token claim holding the user's groups (a string or a list of strings)")
	fs.StringVar(&f.oidc.GroupsPrefix, "oidc-groups-prefix", "", "put before every group name")
	fs.StringVar(&f.oidc.CAFile, "oidc-ca-file", "", "a PEM file of CAs the provider's certificate is checked against, beside the system's")
	fs.StringVar(&f.sessionSecretFile, "session-secret-file", "", "a file whose content derives the session cookie keys (or set "+EnvSessionSecret+"); random by default, so a restart signs everyone out")
	fs.DurationVar(&f.sessionTTL, "session-ttl", 12*time.Hour, "how long a sign-in lasts")
}

// Apply puts the flags into o, reading the secret files.
func (f *SignInFlags) Apply(o *Options) error {
	o.SessionTTL = f.sessionTTL
	secret, err := secretFrom(f.sessionSecretFile, EnvSessionSecret, "--session-secret-file")
	if err != nil {
		return err
	}
	o.SessionSecret = []byte(secret)
	if f.oidc.IssuerURL == "" {
		if f.oidc.ClientID != "" || f.clientSecretFile != "" {
			return fmt.Errorf("--oidc-client-id and --oidc-client-secret-file need --oidc-issuer-url")
		}
		return nil
	}
	if f.oidc.ClientID == "" {
		return fmt.Errorf("--oidc-issuer-url needs --oidc-client-id")
	}
	oidc := f.oidc
	if oidc.ClientSecret, err = secretFrom(f.clientSecretFile, EnvOIDCClientSecret, "--oidc-client-secret-file"); err != nil {
		return err
	}
	o.OIDC = &oidc
	return nil
}

// secretFrom reads a secret from file, else from the environment variable env.
func secretFrom(file, env, flag string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, file)
	}
	return s, nil
}
