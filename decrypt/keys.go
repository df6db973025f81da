package decrypt

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	// AgeKeySuffix marks decryption Secret entries holding age identities.
	AgeKeySuffix = ".agekey"
	// PGPKeySuffix marks decryption Secret entries holding armored OpenPGP
	// private keys.
	PGPKeySuffix = ".asc"
)

// Decryptor decrypts with the keys of one decryption Secret. It is
// immutable once built and safe for concurrent use.
type Decryptor struct {
	ageIdentities []age.Identity
	pgpKeys       openpgp.EntityList
	// vaultToken authenticates hc_vault keys (sops.vault-token).
	vaultToken string
	// awsCredentials are the sops.aws-kms credentials; nil uses the controller's identity.
	awsCredentials aws.CredentialsProvider
	// gcpCredentials is the sops.gcp-kms service account key; nil uses the controller's
	// identity.
	gcpCredentials []byte
	// azure is the sops.azure-kv identity; nil uses the controller's identity.
	azure *azureAuth
	// identity is the object's own cloud identity (WithIdentity): when set, it replaces the
	// controller's identity for remote keys the Secret has no entry for.
	identity *CloudIdentity
}

// NewDecryptor builds a decryptor from the decryption.secretRef Secret's
// data: entries whose name ends in ".agekey" hold age identities (one per
// line; blank lines and '#' comments are ignored), entries ending in ".asc"
// hold armored OpenPGP private keys (one or more, without passphrase),
// "sops.vault-token" a Vault token for hc_vault keys, "sops.aws-kms" AWS
// credentials for kms keys, "sops.gcp-kms" a Google service account key
// for gcp_kms keys and "sops.azure-kv" an Azure identity for azure_kv keys
// (see remote.go). Other entries are ignored. A
// nil or empty map gives a decryptor without keys, whose every decryption
// fails naming what the data was encrypted for.
//
// An entry that does not parse is an error naming the entry (and line), but
// never quoting its content.
func NewDecryptor(secretData map[string][]byte) (*Decryptor, error) {
	d := &Decryptor{}
	names := make([]string, 0, len(secretData))
	for name := range secretData {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		data := secretData[name]
		switch {
		case strings.HasSuffix(name, AgeKeySuffix):
			ids, err := parseAgeIdentities(name, data)
			if err != nil {
				return nil, err
			}
			d.ageIdentities = append(d.ageIdentities, ids...)
		case name == VaultTokenKey:
			d.vaultToken = strings.TrimSpace(string(data))
		case name == AWSKMSKey:
			creds, err := parseAWSCredentials(data)
			if err != nil {
				return nil, err
			}
			d.awsCredentials = creds
		case name == GCPKMSKey:
			creds, err := parseGCPCredentials(data)
			if err != nil {
				return nil, err
			}
			d.gcpCredentials = creds
		case name == AzureKVKey:
			auth, err := parseAzureCredentials(data)
			if err != nil {
				return nil, err
			}
			d.azure = auth
		case strings.HasSuffix(name, PGPKeySuffix):
			keys, err := parsePGPKeys(name, data)
			if err != nil {
				return nil, err
			}
			d.pgpKeys = append(d.pgpKeys, keys...)
		}
	}
	return d, nil
}

// parseAgeIdentities parses one identities entry line by line, so that an
// error can give the line without the library's message, which quotes it.
func parseAgeIdentities(name string, data []byte) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parsed, err := age.ParseIdentities(strings.NewReader(line))
		if err != nil {
			return nil, fmt.Errorf("decryption Secret entry '%s': line %d is not an age identity (AGE-SECRET-KEY-...)", name, n)
		}
		ids = append(ids, parsed...)
	}
	if sc.Err() != nil {
		return nil, fmt.Errorf("decryption Secret entry '%s': a line is too long for an age identity", name)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("decryption Secret entry '%s' holds no age identity", name)
	}
	return ids, nil
}

// parsePGPKeys parses one armored key ring and keeps only what can decrypt
// without interaction: keys with unencrypted private key material.
func parsePGPKeys(name string, data []byte) (openpgp.EntityList, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decryption Secret entry '%s' is not an armored OpenPGP key ring", name)
	}
	var keys openpgp.EntityList
	for _, e := range ring {
		privs := []*packet.PrivateKey{e.PrivateKey}
		for _, s := range e.Subkeys {
			privs = append(privs, s.PrivateKey)
		}
		usable := false
		for _, k := range privs {
			switch {
			case k == nil || k.Dummy():
				// A public key, or a GnuPG stub for a key kept elsewhere
				// (--export-secret-subkeys leaves one for the primary key).
			case k.Encrypted:
				return nil, fmt.Errorf("decryption Secret entry '%s': OpenPGP key %X is protected by a passphrase, which is not supported", name, e.PrimaryKey.Fingerprint)
			default:
				usable = true
			}
		}
		if usable {
			keys = append(keys, e)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("decryption Secret entry '%s' holds no OpenPGP private key", name)
	}
	return keys, nil
}

// describeKeys says which keys the decryptor holds, for error messages.
func (d *Decryptor) describeKeys() string {
	return fmt.Sprintf("%s and %s from the decryption Secret",
		plural(len(d.ageIdentities), "age identity", "age identities"),
		plural(len(d.pgpKeys), "OpenPGP key", "OpenPGP keys"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
