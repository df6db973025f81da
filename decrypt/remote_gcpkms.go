//go:build !sops_no_gcpkms

package decrypt

import (
	"context"
	"errors"

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
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	plain, err := mk.DecryptContext(ctx)
	if err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	return plain, nil
}
