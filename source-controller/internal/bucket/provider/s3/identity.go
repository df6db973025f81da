package s3

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// retrieveTimeout bounds one exchange for a service account's credentials: minio-go's
// provider interface carries no context.
const retrieveTimeout = time.Minute

// serviceAccountCredentials adapts an AWS SDK credentials provider (a service account's
// role, assumed with its token) to minio-go. minio-go serializes calls to it.
type serviceAccountCredentials struct {
	p       aws.CredentialsProvider
	fetched bool
	expires time.Time
}

var _ credentials.Provider = (*serviceAccountCredentials)(nil)

func (s *serviceAccountCredentials) Retrieve() (credentials.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), retrieveTimeout)
	defer cancel()
	c, err := s.p.Retrieve(ctx)
	if err != nil {
		return credentials.Value{}, err
	}
	s.fetched, s.expires = true, time.Time{}
	if c.CanExpire {
		s.expires = c.Expires
	}
	return credentials.Value{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expires, SignerType: credentials.SignatureV4}, nil
}

func (s *serviceAccountCredentials) RetrieveWithCredContext(*credentials.CredContext) (credentials.Value, error) {
	return s.Retrieve()
}

// IsExpired asks for new credentials a minute before the role session ends.
func (s *serviceAccountCredentials) IsExpired() bool {
	return !s.fetched || (!s.expires.IsZero() && time.Now().Add(time.Minute).After(s.expires))
}
