package decrypt

import (
	"bytes"
	"context"
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
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/keyservice"
)

// maxDataKey bounds what a data key decryption may return: SOPS data keys
// are 32 bytes (or a Shamir share of similar size).
const maxDataKey = 1 << 10

// keyServer answers SOPS' data key requests from the decryptor's in-memory
// keys. One is made per document, so that it can note why keys that were
// meant for this decryptor still failed (a corrupted data key, say), which
// SOPS' own error would bury. SOPS calls it from one goroutine.
type keyServer struct {
	d        *Decryptor
	failures []string
}

var _ keyservice.KeyServiceServer = (*keyServer)(nil)

// errNoMatch means no key of the decryptor was the one the data key was
// encrypted for: the normal outcome for all but one master key of a file.
var errNoMatch = errors.New("no matching key")

// Encrypt is not offered: the controller only decrypts.
func (s *keyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("encryption is not supported")
}

// Decrypt recovers a data key encrypted for an age recipient or an OpenPGP
// key; other master key types (cloud KMS, Vault) are not supported.
func (s *keyServer) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	var (
		plain []byte
		err   error
		kind  string
	)
	switch k := req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		kind = "age recipient " + k.AgeKey.GetRecipient()
		plain, err = s.decryptAge(req.GetCiphertext())
	case *keyservice.Key_PgpKey:
		kind = "OpenPGP key " + k.PgpKey.GetFingerprint()
		plain, err = s.decryptPGP(req.GetCiphertext())
	default:
		return nil, errors.New("unsupported key type")
	}
	if err != nil {
		if !errors.Is(err, errNoMatch) {
			s.failures = append(s.failures, fmt.Sprintf("%s: %v", kind, err))
		}
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plain}, nil
}

func (s *keyServer) decryptAge(ciphertext []byte) ([]byte, error) {
	if len(s.d.ageIdentities) == 0 {
		return nil, errNoMatch
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(ciphertext)), s.d.ageIdentities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, errNoMatch
		}
		return nil, errors.New("the encrypted data key is malformed")
	}
	return readDataKey(r)
}

func (s *keyServer) decryptPGP(ciphertext []byte) ([]byte, error) {
	if len(s.d.pgpKeys) == 0 {
		return nil, errNoMatch
	}
	block, err := pgparmor.Decode(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, errors.New("the encrypted data key is not an armored OpenPGP message")
	}
	md, err := openpgp.ReadMessage(block.Body, s.d.pgpKeys, nil, nil)
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

// dataKey recovers the document's data key, or explains which keys the
// document was encrypted for and what the decryptor holds.
func (d *Decryptor) dataKey(md *sops.Metadata) ([]byte, error) {
	ks := &keyServer{d: d}
	key, err := md.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewCustomLocalClient(ks)}, sops.DefaultDecryptionOrder)
	if err == nil {
		return key, nil
	}
	if len(ks.failures) > 0 {
		return nil, fmt.Errorf("cannot recover the data key: %s", strings.Join(ks.failures, "; "))
	}
	return nil, fmt.Errorf("no decryption key matches: encrypted for %s; tried %s", describeMasterKeys(md), d.describeKeys())
}

// describeMasterKeys lists the keys a document's data key is encrypted for,
// by their public identifiers (recipient, fingerprint, KMS key name).
func describeMasterKeys(md *sops.Metadata) string {
	var parts []string
	for _, g := range md.KeyGroups {
		for _, k := range g {
			var p string
			switch id := k.TypeToIdentifier(); id {
			case "age":
				p = "age recipient " + k.ToString()
			case "pgp":
				p = "OpenPGP key " + k.ToString()
			default:
				p = fmt.Sprintf("%s key %s (not supported)", id, k.ToString())
			}
			if !slices.Contains(parts, p) {
				parts = append(parts, p)
			}
		}
	}
	if len(parts) == 0 {
		return "no key"
	}
	if len(md.KeyGroups) > 1 {
		return fmt.Sprintf("%d key groups (%s), %d of which are needed", len(md.KeyGroups), strings.Join(parts, ", "), md.ShamirThreshold)
	}
	return strings.Join(parts, ", ")
}
