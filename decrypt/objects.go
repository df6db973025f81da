package decrypt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DecryptObjects decrypts, in place, the SOPS-encrypted objects among objs:
// objects carrying SOPS metadata (typically Secrets whose data/stringData
// values were encrypted by `sops --encrypt --encrypted-regex
// '^(data|stringData)$'`), and Secrets with a data/stringData value that is
// a whole SOPS-encrypted file (see DecryptFile). Other objects are not
// touched. Like substitution, it assigns obj.Object and never modifies the
// maps the input objects hold, so objects from a build cache can be passed
// as shallow copies.
//
// Integrity: every encrypted value is authenticated on its own (AES-GCM,
// bound to its path in the document) and the stored MAC must authenticate
// with the data key; but the MAC is not recomputed over the object, since
// the build has legitimately changed it (kustomize sets namespaces, labels,
// name prefixes, and the object no longer has its file's key order). Files
// decrypted through DecryptFile get the full check.
//
// Errors name each failing object (up to a bound) and, for a missing key,
// what the object was encrypted for and which key types were tried.
func (d *Decryptor) DecryptObjects(objs []*unstructured.Unstructured) error {
	var errs []error
	failed := 0
	for _, obj := range objs {
		var err error
		switch {
		case hasSOPSMetadata(obj):
			err = d.decryptObject(obj)
		default:
			if entries := encryptedSecretEntries(obj); len(entries) > 0 {
				err = d.decryptSecretFiles(obj, entries)
			}
		}
		if err != nil {
			failed++
			if len(errs) < maxReported {
				errs = append(errs, fmt.Errorf("%s: %w", objectRef(obj), err))
			}
		}
	}
	if failed > len(errs) {
		errs = append(errs, fmt.Errorf("and %d more objects failed to decrypt", failed-len(errs)))
	}
	return errors.Join(errs...)
}

// decryptObject decrypts an object that carries SOPS metadata. It reads
// the object as its JSON encoding, the way sops reads a JSON file.
func (d *Decryptor) decryptObject(obj *unstructured.Unstructured) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("internal error while decrypting (malformed SOPS document)")
		}
	}()
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("cannot serialize for decryption: %w", err)
	}
	docs, md, err := loadEncrypted(formatJSON, data)
	if err != nil {
		return errors.New("the SOPS metadata is invalid")
	}
	if err := d.decryptDocument(docs, md, macStored); err != nil {
		return err
	}
	if len(docs) != 1 {
		return errors.New("unexpected SOPS document layout")
	}
	v, err := plainValue(docs[0])
	if err != nil {
		return fmt.Errorf("decrypted object: %w", err)
	}
	m := v.(map[string]any)
	if err := checkObject(m); err != nil {
		return err
	}
	obj.Object = m
	return nil
}

// decryptSecretFiles decrypts the Secret values that are encrypted files,
// with the format of the file the value's key is named after.
func (d *Decryptor) decryptSecretFiles(obj *unstructured.Unstructured, entries []secretEntry) error {
	out := maps.Clone(obj.Object)
	fields := map[string]map[string]any{}
	for _, e := range entries {
		plain, err := d.DecryptFile(e.key, e.content)
		if err != nil {
			return fmt.Errorf("%s key '%s': %w", e.field, e.key, err)
		}
		f := fields[e.field]
		if f == nil {
			f = maps.Clone(obj.Object[e.field].(map[string]any))
			fields[e.field] = f
			out[e.field] = f
		}
		if e.field == "data" {
			f[e.key] = base64.StdEncoding.EncodeToString(plain)
		} else {
			f[e.key] = string(plain)
		}
	}
	obj.Object = out
	return nil
}

// checkObject rejects a decryption result that is no longer an object.
func checkObject(m map[string]any) error {
	for _, f := range []string{"apiVersion", "kind"} {
		if s, _ := m[f].(string); s == "" {
			return fmt.Errorf("the decrypted object has no %s", f)
		}
	}
	return nil
}

// plainValue converts a decrypted value into the JSON value types of
// unstructured.Unstructured, dropping comments.
func plainValue(v any) (any, error) {
	switch v := v.(type) {
	case mapping:
		m := make(map[string]any, len(v))
		for _, e := range v {
			if _, isComment := e.key.(comment); isComment {
				continue
			}
			k, ok := e.key.(string)
			if !ok {
				return nil, fmt.Errorf("non-string key of type %T", e.key)
			}
			pv, err := plainValue(e.value)
			if err != nil {
				return nil, err
			}
			m[k] = pv
		}
		return m, nil
	case []any:
		s := make([]any, 0, len(v))
		for _, e := range v {
			if _, isComment := e.(comment); isComment {
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
