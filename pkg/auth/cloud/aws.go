package cloud

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"gotk.dev/pkg/auth"
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

// ecrLogin asks ECR's GetAuthorizationToken, in the registry's region, for the registry's
// account, with the AWS default credential chain.
func (l *Logins) ecrLogin(ctx context.Context, host string) (auth.Token, error) {
	reg, _ := parseECRHost(host)
	identity := controllerIdentity + " (AWS default credential chain)"
	cfg, err := l.awsConfig(ctx, reg.region)
	if err != nil {
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: identity, Err: oneLine(err)}
	}
	return ecrToken(ctx, cfg, reg.region, identity)
}

// ecrToken calls GetAuthorizationToken with cfg's credentials and decodes the answer.
func ecrToken(ctx context.Context, cfg aws.Config, region, identity string) (auth.Token, error) {
	endpoint := "ECR GetAuthorizationToken in " + region
	fail := func(endpoint string, err error) (auth.Token, error) {
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: identity, Endpoint: endpoint, Err: err}
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return fail(awsEndpoint(err, endpoint), oneLine(err))
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

// awsConfig loads the SDK's default configuration (credential chain, endpoint overrides)
// for region.
func (l *Logins) awsConfig(ctx context.Context, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if l.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(l.HTTPClient))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// awsEndpoint names the host that answered err (the STS or ECR endpoint actually used), or
// what when the request never got an answer.
func awsEndpoint(err error, what string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Request != nil && re.Response.Request.URL != nil {
		return fmt.Sprintf("%s (%s)", what, re.Response.Request.URL.Host)
	}
	return what
}
