//go:build !sops_no_awskms

package decrypt

import (
	"github.com/getsops/sops/v3/kms"
)

// decryptAWSKMS decrypts a data key with AWS KMS (assuming the key's role first when it names
// one), with the Secret's credentials, the object's identity or the controller's identity. A
// document's aws_profile is ignored: it would pick among the controller's own profiles.
func (d *Decryptor) decryptAWSKMS(k masterKey) ([]byte, error) {
	mk := kms.NewMasterKey(k.values["arn"], k.values["role"], stringPointers(k.context))
	mk.EncryptedKey = k.enc
	switch {
	case d.awsCredentials != nil:
		kms.NewCredentialsProvider(d.awsCredentials).ApplyToMasterKey(mk)
	case d.identity != nil && d.identity.AWS == nil:
		return nil, d.identity.noIdentity("AWS")
	case d.identity != nil:
		kms.NewCredentialsProvider(d.identity.AWS).ApplyToMasterKey(mk)
	}
	return callKeyService(mk.DecryptContext)
}
