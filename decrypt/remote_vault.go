//go:build !sops_no_vault

package decrypt

import (
	"fmt"

	"github.com/getsops/sops/v3/hcvault"
)

// decryptVault decrypts a data key with Vault's transit engine, with the Secret's token only:
// the controller's own Vault token (environment, ~/.vault-token) is never sent to an address
// a document names.
func (d *Decryptor) decryptVault(k masterKey) ([]byte, error) {
	if d.vaultToken == "" {
		return nil, fmt.Errorf("no '%s' entry in the decryption Secret", VaultTokenKey)
	}
	mk := hcvault.NewMasterKey(k.values["vault_address"], k.values["engine_path"], k.values["key_name"])
	mk.EncryptedKey = k.enc
	hcvault.Token(d.vaultToken).ApplyToMasterKey(mk)
	return callKeyService(mk.DecryptContext)
}
