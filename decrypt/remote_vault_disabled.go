//go:build sops_no_vault

package decrypt

import "errors"

// decryptVault: this build leaves the hc_vault (Vault transit) provider out (build tag sops_no_vault) for a smaller binary.
func (d *Decryptor) decryptVault(masterKey) ([]byte, error) {
	return nil, errors.New("hc_vault (Vault transit) support is not built into this binary (build tag sops_no_vault)")
}
