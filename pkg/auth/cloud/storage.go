package cloud

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// ServiceAccountFor returns the service account whose cloud identity an object with a
// cloud provider authenticates as: its own spec.serviceAccountName or, when it names none,
// --default-service-account; "" for the controller's own identity. Naming one while the
// ObjectLevelWorkloadIdentity gate is off (or l is nil) is ErrObjectLevelDisabled; the
// default only applies with the gate on. A nil Logins is the gate off.
func (l *Logins) ServiceAccountFor(name string) (string, error) {
	objectLevel := l != nil && l.ObjectLevel
	switch {
	case name != "" && !objectLevel:
		return "", ErrObjectLevelDisabled
	case name != "":
		return name, nil
	case objectLevel:
		return l.DefaultServiceAccount, nil
	}
	return "", nil
}

// StorageOptions say how an object storage identity's credentials are asked for.
type StorageOptions struct {
	// Proxy, when set, carries the exchanges with the clouds (a Bucket's
	// spec.proxySecretRef), as it carries the storage requests.
	Proxy *url.URL
	// Region is the AWS region whose STS is asked (a Bucket's spec.region); empty for the
	// controller's (AWS_REGION, else us-east-1).
	Region string
	// STSEndpoint replaces the regional STS endpoint (a Bucket's spec.sts.endpoint).
	STSEndpoint string
}

// StorageAWSCredentials returns the credentials of the IAM role a service account's
// eks.amazonaws.com/role-arn annotation names, for S3: the service account's token
// (TokenRequest, audience sts.amazonaws.com) exchanged with STS AssumeRoleWithWebIdentity
// when first needed, cached per service account, role and STS. The controller's own
// credentials are never used; failures are *CredentialsError naming the service account
// and the endpoint.
func (l *Logins) StorageAWSCredentials(namespace, name string, o StorageOptions) aws.CredentialsProvider {
	region := o.Region
	if region == "" {
		region = stsRegion()
	}
	return l.Via(o.Proxy).ServiceAccountAWS(PurposeStorage, namespace, name, region, o.STSEndpoint)
}

// StorageAzureCredential returns an Entra ID credential of the application or managed
// identity a service account's azure.workload.identity/client-id annotation names (tenant
// from azure.workload.identity/tenant-id or AZURE_TENANT_ID), for Blob Storage: the service
// account's token presented as a federated client assertion.
func (l *Logins) StorageAzureCredential(namespace, name string, o StorageOptions) azcore.TokenCredential {
	return l.Via(o.Proxy).ServiceAccountAzure(PurposeStorage, namespace, name)
}

// CacheKey joins parts into a key of l.Cache that includes l's proxy (see Via).
func (l *Logins) CacheKey(parts ...string) string {
	return strings.Join(append(parts, l.proxyKey), "\x00")
}

// Via returns l with its calls to the clouds going through proxy (an object's
// spec.proxySecretRef, with its credentials), or l itself when proxy is nil: a copy sharing
// the cache, whose keys then include the proxy.
func (l *Logins) Via(proxy *url.URL) *Logins {
	if proxy == nil {
		return l
	}
	var t *http.Transport
	if l.HTTPClient != nil {
		if base, ok := l.HTTPClient.Transport.(*http.Transport); ok {
			t = base.Clone()
		}
	}
	if t == nil {
		t = http.DefaultTransport.(*http.Transport).Clone()
	}
	proxyFor := func(r *http.Request) (*url.URL, error) {
		if isMetadataServer(r.URL) {
			return nil, nil
		}
		return proxy, nil
	}
	t.Proxy = proxyFor
	// Field by field: the per-region CodeCommit credentials are not for a proxied copy (and
	// a sync.Map must not be copied).
	return &Logins{
		Cache:                         l.Cache,
		HTTPClient:                    &http.Client{Transport: proxyNamed{next: t, proxy: proxy.Host}},
		ObjectLevel:                   l.ObjectLevel,
		DefaultServiceAccount:         l.DefaultServiceAccount,
		Kube:                          l.Kube,
		AzureDisableInstanceDiscovery: l.AzureDisableInstanceDiscovery,
		proxyKey:                      proxy.String(),
		proxy:                         proxyFor,
	}
}

// isMetadataServer reports whether u is an instance metadata server (AWS IMDS, Azure IMDS,
// the GCE/GKE metadata server): link-local and node-local, never behind an object's proxy.
func isMetadataServer(u *url.URL) bool {
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil && (ip.IsLinkLocalUnicast() || ip.Equal(net.ParseIP("fd00:ec2::254"))) {
		return true
	}
	if host == "metadata.google.internal" {
		return true
	}
	h := os.Getenv("GCE_METADATA_HOST")
	return h != "" && u.Host == h
}

// proxyNamed names the proxy (its host, never its credentials) in the errors of requests
// sent through it, and turns its refusal of a forwarded plain-HTTP request (407, which an
// SDK would otherwise try to parse as the cloud's answer) into an error: the condition then
// says the proxy failed, not the cloud.
type proxyNamed struct {
	next  http.RoundTripper
	proxy string
}

func (p proxyNamed) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err != nil {
		return nil, fmt.Errorf("through proxy %s: %w", p.proxy, err)
	}
	if resp.StatusCode == http.StatusProxyAuthRequired {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("through proxy %s: %s", p.proxy, resp.Status)
	}
	return resp, nil
}
