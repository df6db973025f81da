//go:build !sops_no_gcpkms

package decrypt

import (
	"github.com/getsops/sops/v3/gcpkms"
)

// decryptGCPKMS decrypts a data key with Google Cloud KMS, with the Secret's service account
// or the controller's identity.
func (d *Decryptor) decryptGCPKMS(k masterKey) ([]byte, error) {
	mk := gcpkms.NewMasterKeyFromResourceID(k.values["resource_id"])
	mk.EncryptedKey = k.enc
	switch {
	case d.gcpCredentials != nil:
		gcpkms.CredentialJSON(d.gcpCredentials).ApplyToMasterKey(mk)
	case d.identity != nil && d.identity.GCP == nil:
		return nil, d.identity.noIdentity("GCP")
	case d.identity != nil:
		gcpkms.NewTokenSource(d.identity.GCP).ApplyToMasterKey(mk)
	}
	return callKeyService(mk.DecryptContext)
}
