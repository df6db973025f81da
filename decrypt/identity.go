package decrypt

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/oauth2"
)

// CloudIdentity is an object's own cloud identity (a Kustomization's
// spec.decryption.serviceAccountName, exchanged for cloud credentials by the caller). Remote
// keys whose decryption Secret entry is absent are decrypted with it instead of the
// controller's identity, and never with the controller's: a provider it has no credential
// for is an error naming the identity.
type CloudIdentity struct {
	// Name says whose identity it is, for errors ("service account 'ns/name'").
	Name string
	// AWS decrypts kms keys; nil refuses them.
	AWS aws.CredentialsProvider
	// Azure decrypts azure_kv keys; nil refuses them.
	Azure azcore.TokenCredential
	// GCP decrypts gcp_kms keys; nil refuses them.
	GCP oauth2.TokenSource
}

// WithIdentity returns a decryptor with d's keys that uses id where d has no credentials of
// its own for a cloud KMS (the Secret's static entries keep priority, as upstream Flux
// documents). d is left unchanged.
func (d *Decryptor) WithIdentity(id *CloudIdentity) *Decryptor {
	c := *d
	c.identity = id
	return &c
}

// noIdentity is the error for a cloud KMS the object's identity has no credential for.
func (id *CloudIdentity) noIdentity(provider string) error {
	return fmt.Errorf("%s has no %s identity (and the controller's own is not used for it)", id.Name, provider)
}
