package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"gotk.dev/pkg/auth"
)

// ErrObjectLevelDisabled is upstream's answer to spec.serviceAccountName on an object with
// a cloud provider while the ObjectLevelWorkloadIdentity feature gate is off.
var ErrObjectLevelDisabled = errors.New("to use spec.serviceAccountName for provider authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller")

// RegistryKeychain logs in to the registry host of an object whose spec.provider is a cloud
// and returns a keychain with those credentials for that host only (other hosts are
// anonymous). serviceAccount is the object's spec.serviceAccountName: with the
// ObjectLevelWorkloadIdentity gate (Logins.ObjectLevel) it, or --default-service-account,
// is the identity logged in as; without the gate it must be empty.
func (l *Logins) RegistryKeychain(ctx context.Context, provider, host, namespace, serviceAccount string, transport http.RoundTripper) (authn.Keychain, error) {
	if serviceAccount == "" && l.ObjectLevel {
		serviceAccount = l.DefaultServiceAccount
	}
	var tok auth.Token
	var err error
	switch {
	case serviceAccount != "" && !l.ObjectLevel:
		return nil, ErrObjectLevelDisabled
	case serviceAccount != "":
		tok, err = l.registryLoginAs(ctx, provider, host, namespace, serviceAccount, transport)
	default:
		tok, err = l.RegistryLogin(ctx, provider, host, transport)
	}
	if err != nil {
		return nil, err
	}
	return hostKeychain{host: strings.ToLower(host), tok: tok}, nil
}

// hostKeychain answers one registry host with one credential.
type hostKeychain struct {
	host string
	tok  auth.Token
}

func (k hostKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if strings.EqualFold(r.RegistryStr(), k.host) {
		return &authn.Basic{Username: k.tok.Username, Password: k.tok.Value}, nil
	}
	return authn.Anonymous, nil
}
