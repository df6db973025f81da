package decrypt

import (
	"errors"
	"fmt"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
)

// macPolicy says how much of SOPS' message authentication code is checked.
type macPolicy int

const (
	// macFull recomputes the MAC over the document and compares it with the
	// stored one, as `sops --decrypt` does. Only meaningful on the bytes that
	// were encrypted.
	macFull macPolicy = iota
	// macStored only checks that the stored MAC decrypts (it is bound to the
	// data key and the lastmodified date). Used for objects out of a
	// kustomize build, whose unencrypted fields kustomize may legitimately
	// have changed or reordered; every encrypted value still authenticates
	// on its own, bound to its path (AES-GCM with the path as additional
	// data).
	macStored
)

// decryptTree decrypts tree in place. Errors never carry SOPS' messages
// for value decryption, which can quote a value that was meant to be
// encrypted but is plaintext, or a decrypted value that failed to convert.
func (d *Decryptor) decryptTree(tree *sops.Tree, policy macPolicy) (err error) {
	defer func() {
		// SOPS has panicked on hostile input before; one bad document must
		// fail its reconciliation, not the controller.
		if r := recover(); r != nil {
			err = errors.New("internal error while decrypting (malformed SOPS document)")
		}
	}()
	if tree.Metadata.Version == "" && tree.Metadata.MessageAuthenticationCode == "" {
		return errors.New("the SOPS metadata has no version and no mac")
	}
	key, err := d.dataKey(&tree.Metadata)
	if err != nil {
		return err
	}
	cipher := aes.NewCipher()
	computed, err := tree.Decrypt(key, cipher)
	if err != nil {
		return errors.New("a value does not decrypt with the data key (it is corrupted, was moved, or is not SOPS ciphertext)")
	}
	stored, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return errors.New("the SOPS MAC is corrupted (it does not decrypt with the data key and lastmodified date)")
	}
	if policy == macFull && stored != computed {
		// The MACs are hashes of the plaintext: never print them.
		return errors.New("the SOPS MAC does not match the content: the file was changed after it was encrypted")
	}
	return nil
}

// plainValue converts a decrypted tree value into the JSON value types of
// unstructured.Unstructured.
func plainValue(v any) (any, error) {
	switch v := v.(type) {
	case sops.TreeBranch:
		m := make(map[string]any, len(v))
		for _, item := range v {
			if _, isComment := item.Key.(sops.Comment); isComment {
				continue
			}
			k, ok := item.Key.(string)
			if !ok {
				return nil, fmt.Errorf("non-string key of type %T", item.Key)
			}
			pv, err := plainValue(item.Value)
			if err != nil {
				return nil, err
			}
			m[k] = pv
		}
		return m, nil
	case []any:
		s := make([]any, 0, len(v))
		for _, e := range v {
			if _, isComment := e.(sops.Comment); isComment {
				continue
			}
			pv, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			s = append(s, pv)
		}
		return s, nil
	case string, bool, int64, float64, nil:
		return v, nil
	case int:
		return int64(v), nil
	case []byte:
		return string(v), nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("value of unexpected type %T", v)
}
