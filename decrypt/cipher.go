package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"time"
)

// encryptedValue matches one value SOPS encrypted with AES-256-GCM:
//
//	ENC[AES256_GCM,data:<base64>,iv:<base64>,tag:<base64>,type:<type>]
//
// The groups are greedy and the end is not anchored, as SOPS reads them, so
// that a value SOPS accepts is read the same way here.
var encryptedValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`)

// errValue is the one message for a value that fails to decrypt. It never
// says more: SOPS' own messages quote the value, which may be plaintext that
// was meant to be encrypted.
var errValue = errors.New("a value does not decrypt with the data key (it is corrupted, was moved, or is not SOPS ciphertext)")

// valueCipher opens the values of one document with its data key. The
// additional data of each value is its key path (see additionalData), so a
// value cannot be moved to another key without failing authentication.
type valueCipher struct {
	block cipher.Block
	// gcms caches an AEAD per nonce size; SOPS writes 32-byte nonces.
	gcms map[int]cipher.AEAD
}

func newValueCipher(key []byte) (*valueCipher, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		// Not an AES key length: the data key is not what SOPS makes.
		return nil, err
	}
	return &valueCipher{block: block, gcms: map[int]cipher.AEAD{}}, nil
}

// open decrypts one stored value and converts it to the type recorded with
// it: string (str or bytes), int, float64, bool, time.Time (time) or
// comment. An empty string is an empty value, which SOPS never encrypts.
func (c *valueCipher) open(stored, additionalData string) (any, error) {
	if stored == "" {
		return "", nil
	}
	if c == nil {
		return nil, errValue
	}
	m := encryptedValue.FindStringSubmatch(stored)
	if m == nil {
		return nil, errValue
	}
	var parts [3][]byte
	for i := range parts {
		b, err := base64.StdEncoding.DecodeString(m[i+1])
		if err != nil {
			return nil, errValue
		}
		parts[i] = b
	}
	data, iv, tag := parts[0], parts[1], parts[2]
	gcm := c.gcms[len(iv)]
	if gcm == nil {
		var err error
		if gcm, err = cipher.NewGCMWithNonceSize(c.block, len(iv)); err != nil {
			return nil, errValue
		}
		c.gcms[len(iv)] = gcm
	}
	sealed := make([]byte, 0, len(data)+len(tag))
	sealed = append(append(sealed, data...), tag...)
	plain, err := gcm.Open(nil, iv, sealed, []byte(additionalData))
	if err != nil {
		return nil, errValue
	}
	return typedValue(m[4], plain)
}

// typedValue converts decrypted bytes to the value type SOPS recorded. A
// conversion failure is a decryption failure, with the same message.
func typedValue(typ string, plain []byte) (any, error) {
	var (
		v   any
		err error
	)
	switch typ {
	case "str":
		v = string(plain)
	case "int":
		v, err = strconv.Atoi(string(plain))
	case "float":
		v, err = strconv.ParseFloat(string(plain), 64)
	case "bool":
		v, err = strconv.ParseBool(string(plain))
	case "bytes":
		// Written by SOPS' Python predecessor; sops 3 cannot read it (it
		// panics). The bytes are text to every format written here.
		v = string(plain)
	case "time":
		var t time.Time
		err = t.UnmarshalText(plain)
		v = t
	case "comment":
		v = comment{text: string(plain)}
	default:
		err = errValue
	}
	if err != nil {
		return nil, errValue
	}
	return v, nil
}
