package git

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// VerificationMode is GitRepository .spec.verify.mode.
type VerificationMode string

const (
	// VerifyHEAD verifies the checked-out commit.
	VerifyHEAD VerificationMode = "HEAD"
	// VerifyTag verifies the annotated tag the checkout went through.
	VerifyTag VerificationMode = "Tag"
	// VerifyTagAndHEAD verifies both.
	VerifyTagAndHEAD VerificationMode = "TagAndHEAD"
)

// VerificationKeys are the trusted public keys.
type VerificationKeys struct {
	// OpenPGP holds ASCII-armored public key rings.
	OpenPGP []string
	// SSH holds authorized_keys content (one or more keys each).
	SSH [][]byte
}

const (
	pgpSignatureHeader = "-----BEGIN PGP SIGNATURE-----"
	sshSignatureHeader = "-----BEGIN SSH SIGNATURE-----"
	pgpPublicKeyHeader = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	sshNamespace       = "git"
)

// KeysFromSecret sorts a verification Secret's values into OpenPGP key
// rings and SSH authorized keys by content; any other value is an error
// naming its key.
func KeysFromSecret(data map[string][]byte) (VerificationKeys, error) {
	var keys VerificationKeys
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		v := data[name]
		switch {
		case bytes.Contains(v, []byte(pgpPublicKeyHeader)):
			keys.OpenPGP = append(keys.OpenPGP, string(v))
		case len(parseAuthorizedKeys(v)) > 0:
			keys.SSH = append(keys.SSH, v)
		default:
			return VerificationKeys{}, fmt.Errorf("verification key %q is neither an armored OpenPGP public key nor an SSH authorized key", name)
		}
	}
	if len(keys.OpenPGP) == 0 && len(keys.SSH) == 0 {
		return keys, errors.New("no verification keys found")
	}
	return keys, nil
}

// VerifyOpenPGP checks an armored OpenPGP signature over payload against
// the key rings and returns the signing key's ID (upper-case hex).
func VerifyOpenPGP(signature string, payload []byte, armoredKeyRings ...string) (string, error) {
	if len(armoredKeyRings) == 0 {
		return "", errors.New("no OpenPGP keys to verify with")
	}
	var errs []error
	for i, ring := range armoredKeyRings {
		keyring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(ring))
		if err != nil {
			return "", fmt.Errorf("OpenPGP key ring %d: %w", i+1, err)
		}
		signer, err := openpgp.CheckArmoredDetachedSignature(keyring, bytes.NewReader(payload), strings.NewReader(signature), nil)
		if err == nil {
			return signer.PrimaryKey.KeyIdString(), nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("OpenPGP signature does not verify with any of the %d key ring(s): %w", len(armoredKeyRings), errors.Join(errs...))
}

// VerifySSH checks an armored SSH signature (namespace "git") over payload
// against the authorized keys and returns the key's SHA256 fingerprint.
func VerifySSH(signature string, payload []byte, authorizedKeys ...[]byte) (string, error) {
	sig, err := sshsig.Unarmor([]byte(signature))
	if err != nil {
		return "", fmt.Errorf("invalid SSH signature: %w", err)
	}
	var keys []ssh.PublicKey
	for _, ak := range authorizedKeys {
		keys = append(keys, parseAuthorizedKeys(ak)...)
	}
	if len(keys) == 0 {
		return "", errors.New("no SSH keys to verify with")
	}
	signer := ssh.FingerprintSHA256(sig.PublicKey)
	for _, k := range keys {
		if ssh.FingerprintSHA256(k) != signer {
			continue
		}
		if err := sshsig.Verify(bytes.NewReader(payload), sig, k, sig.HashAlgorithm, sshNamespace); err != nil {
			return "", fmt.Errorf("SSH signature by key %s is invalid: %w", signer, err)
		}
		return signer, nil
	}
	return "", fmt.Errorf("SSH signature was made with key %s, which is not among the %d trusted key(s)", signer, len(keys))
}

// parseAuthorizedKeys returns every key in authorized_keys content,
// skipping invalid lines as sshd does.
func parseAuthorizedKeys(data []byte) []ssh.PublicKey {
	var keys []ssh.PublicKey
	for len(bytes.TrimSpace(data)) > 0 {
		k, _, _, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			break
		}
		keys = append(keys, k)
		data = rest
	}
	return keys
}

// verifySignature dispatches on the signature format.
func verifySignature(signature string, payload []byte, keys VerificationKeys) (string, error) {
	sig := strings.TrimSpace(signature)
	switch {
	case strings.HasPrefix(sig, pgpSignatureHeader):
		return VerifyOpenPGP(signature, payload, keys.OpenPGP...)
	case strings.HasPrefix(sig, sshSignatureHeader):
		return VerifySSH(signature, payload, keys.SSH...)
	}
	first, _, _ := strings.Cut(sig, "\n")
	return "", fmt.Errorf("unsupported signature format %q", first)
}

// Verify checks the commit's signature and returns the key that made it.
func (c *Commit) Verify(keys VerificationKeys) (string, error) {
	if strings.TrimSpace(c.Signature) == "" {
		return "", fmt.Errorf("commit %s is not signed", c.Hash)
	}
	key, err := verifySignature(c.Signature, c.Encoded, keys)
	if err != nil {
		return "", fmt.Errorf("unable to verify signature of commit %s: %w", c.Hash, err)
	}
	return key, nil
}

// Verify checks the tag's signature and returns the key that made it.
func (t *Tag) Verify(keys VerificationKeys) (string, error) {
	if strings.TrimSpace(t.Signature) == "" {
		return "", fmt.Errorf("tag %s (%s) is not signed", t.Name, t.Hash)
	}
	key, err := verifySignature(t.Signature, t.Encoded, keys)
	if err != nil {
		return "", fmt.Errorf("unable to verify signature of tag %s (%s): %w", t.Name, t.Hash, err)
	}
	return key, nil
}

// Verification records which keys signed what.
type Verification struct {
	Mode      VerificationMode
	CommitKey string // set when the commit was verified
	TagKey    string // set when the tag was verified
}

// VerifyCommit verifies c according to mode. Tag modes need a checkout that
// went through an annotated tag (Tag, SemVer, or a Name under refs/tags/).
func VerifyCommit(c *Commit, mode VerificationMode, keys VerificationKeys) (*Verification, error) {
	v := &Verification{Mode: mode}
	switch mode {
	case VerifyHEAD, VerifyTag, VerifyTagAndHEAD, "":
	default:
		return nil, fmt.Errorf("unknown verification mode %q: want HEAD, Tag or TagAndHEAD", mode)
	}
	if mode == VerifyTag || mode == VerifyTagAndHEAD {
		if c.ReferencingTag == nil {
			return nil, fmt.Errorf("verification mode %s needs an annotated tag, but %s was not checked out through one", mode, c.String())
		}
		key, err := c.ReferencingTag.Verify(keys)
		if err != nil {
			return nil, err
		}
		v.TagKey = key
	}
	if mode == VerifyHEAD || mode == VerifyTagAndHEAD || mode == "" {
		key, err := c.Verify(keys)
		if err != nil {
			return nil, err
		}
		v.CommitKey = key
	}
	return v, nil
}

// String summarises the verification for a condition message, e.g.
// "verified signature of tag with key X and commit with key Y".
func (v *Verification) String() string {
	var parts []string
	if v.TagKey != "" {
		parts = append(parts, "tag with key "+v.TagKey)
	}
	if v.CommitKey != "" {
		parts = append(parts, "commit with key "+v.CommitKey)
	}
	return "verified signature of " + strings.Join(parts, " and ")
}
