//go:build sops_no_gcpkms

package decrypt

import "errors"

// decryptGCPKMS: this build leaves the GCP KMS provider out (build tag sops_no_gcpkms) for a smaller binary.
func (d *Decryptor) decryptGCPKMS(masterKey) ([]byte, error) {
	return nil, errors.New("GCP KMS support is not built into this binary (build tag sops_no_gcpkms)")
}
