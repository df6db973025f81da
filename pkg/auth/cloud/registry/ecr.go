package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
)

// ecrHost matches ECR's private registry host names, in every AWS partition:
// <account>.dkr.ecr[-fips].<region>.<partition domain>.
var ecrHost = regexp.MustCompile(`^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

// ecrRegistry is an ECR registry: its account and region.
type ecrRegistry struct{ account, region string }

func parseECRHost(host string) (ecrRegistry, bool) {
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return ecrRegistry{}, false
	}
	return ecrRegistry{account: m[1], region: m[2]}, true
}

// ecrLogin asks ECR's GetAuthorizationToken, in the registry's region, with the AWS default
// credential chain or, for a service account, the credentials of its role (STS
// AssumeRoleWithWebIdentity in the registry's region), which saIdentity names.
func ecrLogin(ctx context.Context, l *cloud.Logins, host, namespace, serviceAccount, saIdentity string) (auth.Token, error) {
	reg, _ := parseECRHost(host)
	identity := cloud.ControllerIdentity + " (AWS default credential chain)"
	cfg, err := l.AWSConfig(ctx, reg.region)
	if err != nil {
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderAWS, Identity: identity, Err: cloud.OneLine(err)}
	}
	if serviceAccount != "" {
		creds := l.ServiceAccountAWS(cloud.PurposeRegistry, namespace, serviceAccount, reg.region, "")
		// Asked first, so that a refusal is the exchange's own error, not ECR's wrapping.
		if _, err := creds.Retrieve(ctx); err != nil {
			return auth.Token{}, err
		}
		cfg.Credentials, identity = creds, saIdentity
	}
	return ecrToken(ctx, cfg, reg.region, identity)
}

// ecrToken calls GetAuthorizationToken with cfg's credentials and decodes the answer.
func ecrToken(ctx context.Context, cfg aws.Config, region, identity string) (auth.Token, error) {
	endpoint := "ECR GetAuthorizationToken in " + region
	fail := func(endpoint string, err error) (auth.Token, error) {
		return auth.Token{}, &cloud.LoginError{Provider: cloud.ProviderAWS, Identity: identity, Endpoint: endpoint, Err: err}
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return fail(cloud.AWSEndpoint(err, endpoint), cloud.OneLine(err))
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return fail(endpoint, errors.New("the answer holds no authorization data"))
	}
	data := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(data.AuthorizationToken))
	user, pass, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || user == "" || pass == "" {
		return fail(endpoint, errors.New("the authorization token is not base64 'user:password'"))
	}
	tok := auth.Token{Username: user, Value: pass}
	if data.ExpiresAt != nil {
		tok.ExpiresAt = *data.ExpiresAt
	}
	return tok, nil
}
