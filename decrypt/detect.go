package decrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// cipherMarker starts every value SOPS encrypts, the MAC included.
var cipherMarker = []byte("ENC[AES256_GCM,")

// macMarker finds the SOPS MAC in each store's layout: YAML "mac: ENC[",
// JSON "mac": "ENC[", dotenv "sops_mac=ENC[", INI "mac = ENC[" in [sops].
// SOPS reads the field name case-insensitively, and YAML may quote it.
var macMarker = regexp.MustCompile(`(?m)(?:^|[\s"'{,])(?:sops_)?(?i:mac)["']?[ \t]*[:=][ \t]*["']?ENC\[AES256_GCM,`)

// yamlMetadata finds the top-level "sops" key of a YAML document.
var yamlMetadata = regexp.MustCompile(`(?m)^sops:`)

// IsEncryptedData reports whether data is a SOPS-encrypted document in any
// of SOPS' formats (it carries an encrypted MAC). It does not parse data.
func IsEncryptedData(data []byte) bool {
	return bytes.Contains(data, cipherMarker) && macMarker.Match(data)
}

// IsEncryptedObject reports whether an object carries SOPS metadata (a
// top-level "sops" mapping with a mac), or is a Secret with a data or
// stringData value that is a whole SOPS-encrypted file, as a
// secretGenerator produces from an encrypted file it did not decrypt.
func IsEncryptedObject(obj *unstructured.Unstructured) bool {
	return hasSOPSMetadata(obj) || len(encryptedSecretEntries(obj)) > 0
}

func hasSOPSMetadata(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	md, ok := obj.Object["sops"].(map[string]any)
	if !ok {
		return false
	}
	// SOPS matches metadata field names case-insensitively.
	for k := range md {
		if strings.EqualFold(k, "mac") {
			return true
		}
	}
	return false
}

// secretEntry is one Secret value that holds an encrypted file.
type secretEntry struct {
	field, key string
	content    []byte
}

// encryptedSecretEntries finds the data and stringData values of a Secret
// that are SOPS-encrypted files, sorted by field and key.
func encryptedSecretEntries(obj *unstructured.Unstructured) []secretEntry {
	if obj == nil || obj.GetKind() != "Secret" || obj.GetAPIVersion() != "v1" {
		return nil
	}
	var out []secretEntry
	for _, field := range []string{"data", "stringData"} {
		m, _ := obj.Object[field].(map[string]any)
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				continue
			}
			content := []byte(s)
			if field == "data" {
				var err error
				if content, err = base64.StdEncoding.DecodeString(s); err != nil {
					continue
				}
			}
			if IsEncryptedData(content) {
				out = append(out, secretEntry{field: field, key: k, content: content})
			}
		}
	}
	slices.SortFunc(out, func(a, b secretEntry) int {
		return strings.Compare(a.field+"/"+a.key, b.field+"/"+b.key)
	})
	return out
}

// RequireNoneEncrypted fails, naming every SOPS-encrypted object (up to a
// bound), when the build output holds any: without spec.decryption they
// would be applied as ciphertext.
func RequireNoneEncrypted(objs []*unstructured.Unstructured) error {
	var errs []error
	n := 0
	for _, obj := range objs {
		if !IsEncryptedObject(obj) {
			continue
		}
		n++
		if len(errs) < maxReported {
			errs = append(errs, fmt.Errorf("%s is SOPS-encrypted but spec.decryption is not set", objectRef(obj)))
		}
	}
	if n > len(errs) {
		errs = append(errs, fmt.Errorf("and %d more encrypted objects", n-len(errs)))
	}
	return errors.Join(errs...)
}

// maxReported bounds how many objects one error names.
const maxReported = 10

// objectRef names an object as Kind/namespace/name (Kind/name when it has
// no namespace).
func objectRef(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetName()
}
