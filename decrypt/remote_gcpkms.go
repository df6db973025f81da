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
	case d.identity != nil:
		// Object-level GCP identity is not implemented: refuse rather than use the
		// controller's.
		return nil, d.identity.noIdentity("GCP")
	}
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	plain, err := mk.DecryptContext(ctx)
	if err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	return plain, nil
}
