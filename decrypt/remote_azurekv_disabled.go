//go:build sops_no_azurekv

package decrypt

import "errors"

// azureAuth: this build has no Azure Key Vault provider.
type azureAuth struct{}

// parseAzureCredentials ignores the entry: nothing in this build would use it.
func parseAzureCredentials([]byte) (*azureAuth, error) { return nil, nil }

// decryptAzureKV: this build leaves the Azure Key Vault provider out (build tag sops_no_azurekv) for a smaller binary.
func (d *Decryptor) decryptAzureKV(masterKey) ([]byte, error) {
	return nil, errors.New("Azure Key Vault support is not built into this binary (build tag sops_no_azurekv)")
}
