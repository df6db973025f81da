// Package cloudapi runs test servers written to the public API references of the cloud
// identity and registry-auth endpoints the controllers call for spec.provider aws, azure and
// gcp, on 127.0.0.1:
//
//   - AWS (one server, query and JSON protocols): STS AssumeRoleWithWebIdentity and ECR
//     GetAuthorizationToken, reached through AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_ECR;
//   - Microsoft Entra ID (HTTPS): the tenant's OpenID configuration and the v2.0 token
//     endpoint taking a federated client assertion (workload identity), reached through
//     AZURE_AUTHORITY_HOST;
//   - the GCE metadata server's service account token, reached through GCE_METADATA_HOST;
//   - Google's STS token exchange and IAM Credentials generateAccessToken (HTTPS), for GKE
//     workload identity of a service account, reached under their real names through
//     RouteHost and HTTPClient;
//   - a registry front (HTTPS, a certificate for cloud registry host names) that serves
//     ACR's POST /oauth2/exchange and passes everything else to a real registry, reached
//     through a host router installed in go-containerregistry's default transport.
//
// Each server issues credentials only to the identity the test configured and records what
// it was asked; the credentials it issues are fixed at start, so a real registry's htpasswd
// can accept exactly them.
package cloudapi

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// Counts is how many credentials each endpoint issued.
type Counts struct {
	STS, ECR, EntraID, ACRExchange, Metadata, GoogleSTS, GoogleIAM int
}

// counter is embedded by the servers.
type counter struct {
	mu sync.Mutex
	c  Counts
}

func (c *counter) add(f func(*Counts)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.c)
}

// Counts returns a snapshot.
func (c *counter) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

// Secret returns a random string for a credential.
func Secret(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
