package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/aws-http-auth/credentials"
	"github.com/aws/smithy-go/aws-http-auth/sigv4"
	v4 "github.com/aws/smithy-go/aws-http-auth/v4"

	"gotk.dev/pkg/auth"
)

// codeCommitHost matches AWS CodeCommit's Git HTTPS endpoints, in the commercial and China
// partitions: git-codecommit[-fips].<region>.amazonaws.com[.cn].
var codeCommitHost = regexp.MustCompile(`^git-codecommit(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// CodeCommitURLForm is how errors describe the URLs provider aws accepts.
const CodeCommitURLForm = "an AWS CodeCommit HTTPS URL (https://git-codecommit.<region>.amazonaws.com/v1/repos/<name>)"

// codeCommitService and codeCommitTimeFormat are the SigV4 service name and the
// timestamp format (no trailing Z in the string to sign) of CodeCommit's Git credentials.
const (
	codeCommitService    = "codecommit"
	codeCommitTimeFormat = "20060102T150405"
)

// CodeCommitRegion returns the region of a CodeCommit Git URL, or a *HostError when u is
// not one: another host, or a scheme other than https (CodeCommit's SSH keys belong to IAM
// users, not to workload identities).
func CodeCommitRegion(u *url.URL) (string, error) {
	m := codeCommitHost.FindStringSubmatch(strings.ToLower(u.Hostname()))
	if m == nil || !strings.EqualFold(u.Scheme, "https") {
		return "", &HostError{Provider: ProviderAWS, Host: u.Redacted(), Want: CodeCommitURLForm, What: "Git repository"}
	}
	return m[1], nil
}

// ErrControllerIdentityLocked says the multi-tenancy lockdown (--default-service-account with
// the ObjectLevelWorkloadIdentity gate) forbids lending the controller's own identity to an
// object that cannot name another: a configuration error, retrying does not help.
var ErrControllerIdentityLocked = errors.New("the controller's identity is not lent to objects under --default-service-account, and provider 'aws' for Git repositories takes no service account")

// CodeCommitCredentials returns the Git user name and password (an auth.Token) for the
// CodeCommit repository at u, derived from the controller's AWS identity (the SDK's default
// credential chain) as git-remote-codecommit derives them: the user is the access key ID
// (with '%' and the session token when there is one), the password the SigV4 signature of
// the "GIT" request for the repository path, service codecommit, in the URL's region,
// prefixed by its timestamp. The AWS credentials are cached until shortly before they
// expire; the signature is made fresh for every call.
func (l *Logins) CodeCommitCredentials(ctx context.Context, u *url.URL) (auth.Token, error) {
	region, err := CodeCommitRegion(u)
	if err != nil {
		return auth.Token{}, err
	}
	identity := ControllerIdentity + " (AWS default credential chain)"
	if l.ObjectLevel && l.DefaultServiceAccount != "" {
		// Lockdown: objects may not use the controller's identity, and CodeCommit Git
		// repositories take no spec.serviceAccountName.
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: identity, Purpose: "Git credentials", Err: ErrControllerIdentityLocked}
	}
	provider, err := l.codeCommitProvider(ctx, region)
	if err != nil {
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: identity, Purpose: "Git credentials", Err: OneLine(err)}
	}
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: identity, Purpose: "Git credentials",
			Endpoint: AWSEndpoint(err, "STS in "+region), Err: OneLine(err)}
	}
	return signCodeCommit(creds, u, region, time.Now())
}

// codeCommitProvider is the controller's AWS credentials for region (the default chain's
// STS endpoint is regional), cached in the Logins until shortly before they expire.
func (l *Logins) codeCommitProvider(ctx context.Context, region string) (aws.CredentialsProvider, error) {
	if l.Cache != nil {
		if p, ok := l.codeCommitCreds.Load(region); ok {
			return p.(*aws.CredentialsCache), nil
		}
	}
	cfg, err := l.AWSConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		return nil, errors.New("the AWS default credential chain found no credentials")
	}
	if l.Cache == nil {
		// No caching configured (--token-cache-max-size=0): ask every time.
		return cfg.Credentials, nil
	}
	p, _ := l.codeCommitCreds.LoadOrStore(region, aws.NewCredentialsCache(cfg.Credentials))
	return p.(*aws.CredentialsCache), nil
}

// codeCommitSigner signs the way CodeCommit checks Git passwords: only the host header,
// no payload hash, the repository path as it is, a timestamp without the trailing Z.
var codeCommitSigner = sigv4.New(func(o *v4.SignerOptions) {
	o.HeaderRules = hostOnly{}
	o.DisableImplicitPayloadHashing = true
	o.DisableUnsignedPayloadSentinel = true
	o.DisableDoublePathEscape = true
	o.CanonicalTimeFormat = codeCommitTimeFormat
})

type hostOnly struct{}

func (hostOnly) IsSigned(h string) bool { return h == "host" }

// signCodeCommit signs the Git request for u's repository at now with creds.
func signCodeCommit(creds aws.Credentials, u *url.URL, region string, now time.Time) (auth.Token, error) {
	repo := url.URL{Scheme: "https", Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	req, err := http.NewRequest("GIT", repo.String(), nil)
	if err != nil {
		return auth.Token{}, err
	}
	// CodeCommit signs the host name without a port, as the AWS CLI's credential helper does.
	req.Host = u.Hostname()
	now = now.UTC()
	if err := codeCommitSigner.SignRequest(&sigv4.SignRequestInput{Request: req, Service: codeCommitService, Region: region, Time: now,
		Credentials: credentials.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}}); err != nil {
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: ControllerIdentity, Purpose: "Git credentials", Err: err}
	}
	_, sig, ok := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	if !ok || sig == "" {
		return auth.Token{}, &LoginError{Provider: ProviderAWS, Identity: ControllerIdentity, Purpose: "Git credentials",
			Err: fmt.Errorf("the SigV4 signer produced no signature")}
	}
	user := creds.AccessKeyID
	if creds.SessionToken != "" {
		user += "%" + creds.SessionToken
	}
	tok := auth.Token{Username: user, Value: now.Format(codeCommitTimeFormat) + "Z" + sig}
	if creds.CanExpire {
		tok.ExpiresAt = creds.Expires
	}
	return tok, nil
}
