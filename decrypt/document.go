package decrypt

import (
	"errors"
	"time"
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

// decryptDocument decrypts docs in place: it recovers the data key, opens
// every encrypted value and checks the MAC as policy says. Errors never
// carry a value, encrypted or not, or a MAC (a hash of the plaintext).
func (d *Decryptor) decryptDocument(docs []mapping, md *metadata, policy macPolicy) error {
	if md.version == "" && md.mac == "" {
		return errors.New("the SOPS metadata has no version and no mac")
	}
	key, err := d.dataKey(md)
	if err != nil {
		return err
	}
	// A data key that is no AES key fails every value it should open,
	// as in SOPS; empty values and comments still pass.
	c, _ := newValueCipher(key)
	w := newWalker(md, c)
	for _, doc := range docs {
		if _, err := w.mapping(doc, nil, nil); err != nil {
			return err
		}
	}
	// The MAC is encrypted like a value, with the lastmodified date (as
	// SOPS formats it) as additional data.
	stored, err := c.open(md.mac, md.lastModified.Format(time.RFC3339))
	if err != nil {
		return errors.New("the SOPS MAC is corrupted (it does not decrypt with the data key and lastmodified date)")
	}
	if policy == macFull && stored != w.sum() {
		return errors.New("the SOPS MAC does not match the content: the file was changed after it was encrypted")
	}
	return nil
}
