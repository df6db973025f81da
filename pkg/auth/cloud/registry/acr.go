package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/golang-jwt/jwt/v5"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
)

// acrRefreshTokenUser is the user name ACR takes with a refresh token as the password.
const acrRefreshTokenUser = "00000000-0000-0000-0000-000000000000"

// acrSuffixes maps ACR's domain in each Azure cloud to that cloud: the Entra ID token is
// asked for its Resource Manager audience.
var acrSuffixes = []struct {
	suffix string
	cloud  azcloud.Configuration
}{
	{".azurecr.io", azcloud.AzurePublic},
	{".azurecr.cn", azcloud.AzureChina},
	{".azurecr.us", azcloud.AzureGovernment},
}

func acrCloud(host string) (azcloud.Configuration, bool) {
	for _, s := range acrSuffixes {
		if strings.HasSuffix(host, s.suffix) && len(host) > len(s.suffix) {
			return s.cloud, true
		}
	}
	return azcloud.Configuration{}, false
}

// acrMaxAnswer bounds the token exchange answer.
const acrMaxAnswer = 1 << 20

// acrLogin gets an Entra ID access token with DefaultAzureCredential (workload identity,
// managed identity, environment) or, for a service account (which saIdentity names), its
// federated client assertion credential, and exchanges it at the registry for an ACR
// refresh token.
func acrLogin(ctx context.Context, l *cloud.Logins, host, namespace, serviceAccount, saIdentity string, transport http.RoundTripper) (auth.Token, error) {
	if serviceAccount != "" {
		return acrToken(ctx, l.ServiceAccountAzure(cloud.PurposeRegistry, namespace, serviceAccount), saIdentity, host, transport)
	}
	identity := cloud.ControllerIdentity + " (Azure DefaultAzureCredential)"
	cred, err := l.AzureControllerCredential()
	if err != nil {
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderAzure, Identity: identity, Err: cloud.OneLine(err)}
	}
	return acrToken(ctx, cred, identity, host, transport)
}

// acrToken asks cred for an Entra ID token for the registry's cloud's Resource Manager and
// exchanges it at the registry's /oauth2/exchange for an ACR refresh token, the password
// ACR takes.
func acrToken(ctx context.Context, cred azcore.TokenCredential, identity, host string, transport http.RoundTripper) (auth.Token, error) {
	cc, _ := acrCloud(hostname(host))
	scope := strings.TrimSuffix(cc.Services[azcloud.ResourceManager].Audience, "/") + "/.default"
	aad, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		var ce *cloud.CredentialsError
		if errors.As(err, &ce) {
			return auth.Token{}, err // a service account's credential names itself
		}
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderAzure, Identity: identity, Endpoint: "Microsoft Entra ID (" + cloud.AzureAuthority() + ")", Err: cloud.OneLine(err)}
	}
	refresh, err := acrExchange(ctx, host, aad.Token, transport)
	if err != nil {
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderAzure, Identity: identity, Endpoint: "https://" + host + "/oauth2/exchange", Err: err}
	}
	tok := auth.Token{Username: acrRefreshTokenUser, Value: refresh, ExpiresAt: aad.ExpiresOn}
	// The refresh token is a JWT; its own expiry wins when it says one.
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(refresh, &claims); err == nil && claims.ExpiresAt != nil {
		tok.ExpiresAt = claims.ExpiresAt.Time
	}
	return tok, nil
}

// acrExchange trades an Entra ID access token for an ACR refresh token (ACR's documented
// POST /oauth2/exchange, grant_type access_token). The answer body is never quoted in an
// error: it holds the refresh token on success and may echo the request otherwise.
func acrExchange(ctx context.Context, host, accessToken string, transport http.RoundTripper) (string, error) {
	form := url.Values{"grant_type": {"access_token"}, "service": {hostname(host)}, "access_token": {accessToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+host+"/oauth2/exchange", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if transport == nil {
		transport = http.DefaultTransport
	}
	resp, err := (&http.Client{Transport: transport, Timeout: time.Minute}).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named by the caller
		}
		return "", cloud.OneLine(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, acrMaxAnswer))
	if err != nil {
		return "", fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the registry answered %s", resp.Status)
	}
	var answer struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.RefreshToken == "" {
		return "", errors.New("the answer holds no refresh_token")
	}
	return answer.RefreshToken, nil
}
