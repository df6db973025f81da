//go:build sops_no_awskms

package decrypt

import "errors"

// decryptAWSKMS: this build leaves the AWS KMS provider out (build tag sops_no_awskms) for a smaller binary.
func (d *Decryptor) decryptAWSKMS(masterKey) ([]byte, error) {
	return nil, errors.New("AWS KMS support is not built into this binary (build tag sops_no_awskms)")
}
