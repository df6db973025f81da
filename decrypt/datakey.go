package decrypt

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

// maxDataKey bounds what a data key decryption may return: SOPS data keys
// are 32 bytes (or a Shamir share of similar size).
const maxDataKey = 1 << 10

// errNoMatch means no key of the decryptor was the one the data key was
// encrypted for: the normal outcome for all but one master key of a file.
var errNoMatch = errors.New("no matching key")

// keyOrder is the order in which a key group's master keys are tried, as
// SOPS' default: the local keys (age, then OpenPGP) before those that need a
// request to a key service.
var keyOrder = map[string]int{"age": 0, "pgp": 1}

// dataKey recovers the document's data key, or explains which keys the
// document was encrypted for and what the decryptor holds. It notes why
// keys that were meant for this decryptor still failed (a corrupted data
// key, say), which a plain "no key matches" would bury.
func (d *Decryptor) dataKey(md *metadata) ([]byte, error) {
	var (
		shares   [][]byte
		failures []string
	)
	for _, group := range md.keyGroups {
		share, fails := d.decryptGroup(group)
		failures = append(failures, fails...)
		if share != nil {
			shares = append(shares, share)
		}
	}
	var key []byte
	switch {
	case len(md.keyGroups) == 1 && len(shares) == 1:
		key = shares[0]
	case len(md.keyGroups) > 1 && len(shares) >= md.shamirThreshold:
		// Every group holds a share; the shares combine only when enough
		// groups could be decrypted.
		key, _ = combineShares(shares)
	}
	if key != nil {
		return key, nil
	}
	if len(failures) > 0 {
		return nil, fmt.Errorf("cannot recover the data key: %s", strings.Join(failures, "; "))
	}
	return nil, fmt.Errorf("no decryption key matches: encrypted for %s; tried %s", describeMasterKeys(md), d.describeKeys())
}

// decryptGroup decrypts the data key (share) of one key group with the
// first of its master keys that one of the decryptor's keys opens.
func (d *Decryptor) decryptGroup(group []masterKey) ([]byte, []string) {
	order := slices.Clone(group)
	slices.SortStableFunc(order, func(a, b masterKey) int {
		return cmp.Compare(rank(a.kind), rank(b.kind))
	})
	var failures []string
	for _, k := range order {
		var (
			plain []byte
			err   error
			kind  string
		)
		switch k.kind {
		case "age":
			kind = "age recipient " + k.id
			plain, err = d.decryptAge(k.enc)
		case "pgp":
			kind = "OpenPGP key " + k.id
			plain, err = d.decryptPGP(k.enc)
		case "kms":
			kind = "AWS KMS key " + k.id
			plain, err = d.decryptAWSKMS(k)
		case "gcp_kms":
			kind = "GCP KMS key " + k.id
			plain, err = d.decryptGCPKMS(k)
		case "hc_vault":
			kind = "Vault transit key " + k.id
			plain, err = d.decryptVault(k)
		case "azure_kv":
			kind = "Azure Key Vault key " + k.id
			plain, err = d.decryptAzureKV(k)
		default:
			continue
		}
		if err == nil {
			return plain, failures
		}
		if !errors.Is(err, errNoMatch) {
			failures = append(failures, fmt.Sprintf("%s: %v", kind, err))
		}
	}
	return nil, failures
}

func rank(kind string) int {
	if r, ok := keyOrder[kind]; ok {
		return r
	}
	return len(keyOrder)
}

func (d *Decryptor) decryptAge(ciphertext string) ([]byte, error) {
	if len(d.ageIdentities) == 0 {
		return nil, errNoMatch
	}
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(ciphertext)), d.ageIdentities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, errNoMatch
		}
		return nil, errors.New("the encrypted data key is malformed")
	}
	return readDataKey(r)
}

func (d *Decryptor) decryptPGP(ciphertext string) ([]byte, error) {
	if len(d.pgpKeys) == 0 {
		return nil, errNoMatch
	}
	block, err := pgparmor.Decode(strings.NewReader(ciphertext))
	if err != nil {
		return nil, errors.New("the encrypted data key is not an armored OpenPGP message")
	}
	md, err := openpgp.ReadMessage(block.Body, d.pgpKeys, nil, nil)
	if err != nil {
		if errors.Is(err, pgperrors.ErrKeyIncorrect) {
			return nil, errNoMatch
		}
		return nil, errors.New("the encrypted data key is malformed")
	}
	if !md.IsEncrypted || md.DecryptedWith.PrivateKey == nil {
		return nil, errors.New("the data key is not an encrypted OpenPGP message")
	}
	return readDataKey(md.UnverifiedBody)
}

func readDataKey(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDataKey+1))
	if err != nil {
		return nil, errors.New("the encrypted data key does not authenticate")
	}
	if len(b) > maxDataKey {
		return nil, errors.New("the decrypted data key is too large")
	}
	return b, nil
}

// describeMasterKeys lists the keys a document's data key is encrypted for,
// by their public identifiers (recipient, fingerprint, KMS key name).
func describeMasterKeys(md *metadata) string {
	var parts []string
	for _, g := range md.keyGroups {
		for _, k := range g {
			var p string
			switch k.kind {
			case "age":
				p = "age recipient " + k.id
			case "pgp":
				p = "OpenPGP key " + k.id
			case "kms":
				p = "AWS KMS key " + k.id
			case "gcp_kms":
				p = "GCP KMS key " + k.id
			case "hc_vault":
				p = "Vault transit key " + k.id
			case "azure_kv":
				p = "Azure Key Vault key " + k.id
			default:
				p = fmt.Sprintf("%s key %s (not supported)", k.kind, k.id)
			}
			if !slices.Contains(parts, p) {
				parts = append(parts, p)
			}
		}
	}
	if len(parts) == 0 {
		return "no key"
	}
	if len(md.keyGroups) > 1 {
		return fmt.Sprintf("%d key groups (%s), %d of which are needed", len(md.keyGroups), strings.Join(parts, ", "), md.shamirThreshold)
	}
	return strings.Join(parts, ", ")
}
