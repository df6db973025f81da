package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// AWSConfig loads the SDK's default configuration (credential chain, endpoint overrides)
// for region, calling AWS through l.HTTPClient.
func (l *Logins) AWSConfig(ctx context.Context, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	switch {
	case l.proxy != nil && os.Getenv("AWS_CA_BUNDLE") != "":
		// The SDK adds AWS_CA_BUNDLE's CAs only to its own buildable client (it refuses any
		// other): the object's proxy goes there.
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.Proxy = l.proxy
		})))
	case l.HTTPClient != nil:
		opts = append(opts, config.WithHTTPClient(l.HTTPClient))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// AWSEndpoint names the host that answered err (the STS or ECR endpoint actually used), or
// what when the request never got an answer.
func AWSEndpoint(err error, what string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Request != nil && re.Response.Request.URL != nil {
		return fmt.Sprintf("%s (%s)", what, re.Response.Request.URL.Host)
	}
	return what
}
