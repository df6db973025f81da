package decrypt

import (
	"errors"
	"strings"
	"time"
)

// metadata is a document's "sops" section: how its data key is stored and
// which values are encrypted.
type metadata struct {
	lastModified time.Time
	// mac is the encrypted MAC (ENC[...]), authenticated with lastModified.
	mac     string
	version string

	unencryptedSuffix, encryptedSuffix             string
	unencryptedRegex, encryptedRegex               string
	unencryptedCommentRegex, encryptedCommentRegex string
	macOnlyEncrypted                               bool

	// keyGroups hold the master keys the data key is encrypted for. With
	// more than one group, each holds a Shamir share of the data key and
	// shamirThreshold shares are needed.
	keyGroups       [][]masterKey
	shamirThreshold int
}

// masterKey is one encrypted copy of the data key (or of a share of it).
type masterKey struct {
	// kind is SOPS' key type identifier: age, pgp, kms, gcp_kms, hckms,
	// azure_kv or hc_vault.
	kind string
	// id names the key publicly: an age recipient, an OpenPGP fingerprint,
	// a KMS key name.
	id string
	// enc is the encrypted data key: an armored age file or OpenPGP
	// message, a KMS or Vault transit ciphertext.
	enc string
	// values are the key's metadata fields (arn, role, vault_address, ...)
	// and context a KMS key's encryption context, for the remote services.
	values, context map[string]string
}

// defaultUnencryptedSuffix applies when a document sets no encryption rule.
const defaultUnencryptedSuffix = "_unencrypted"

// metadataLayout says where a format keeps the "sops" section.
type metadataLayout int

const (
	// metadataNested: a top-level "sops" mapping (YAML, JSON, binary).
	metadataNested metadataLayout = iota
	// metadataBelowTop: a top-level "sops" mapping of flattened keys with
	// escaped newlines (the [sops] section of INI files).
	metadataBelowTop
	// metadataFlat: flattened top-level keys prefixed "sops_" (dotenv).
	metadataFlat
)

const metadataKey = "sops"

// errNoMetadata means the document has no SOPS metadata.
var errNoMetadata = errors.New("no SOPS metadata")

// extractMetadata removes the SOPS metadata from the documents and parses
// it. It comes from the first document; "sops" keys of later documents of a
// YAML stream are dropped, as SOPS does.
func extractMetadata(docs []mapping, layout metadataLayout) ([]mapping, *metadata, error) {
	var section mapping
	found, seen := false, false
	if layout == metadataFlat {
		if len(docs) > 0 {
			var rest mapping
			for _, e := range docs[0] {
				if k, ok := e.key.(string); ok && strings.HasPrefix(k, metadataKey+"_") {
					section = append(section, entry{key: k[len(metadataKey)+1:], value: e.value})
					found = true
					continue
				}
				rest = append(rest, e)
			}
			docs[0] = rest
		}
	} else {
		for i, doc := range docs {
			var rest mapping
			for _, e := range doc {
				if k, ok := e.key.(string); !ok || k != metadataKey {
					rest = append(rest, e)
					continue
				}
				if i > 0 {
					continue
				}
				if seen {
					return nil, nil, errors.New("duplicate SOPS metadata")
				}
				m, ok := e.value.(mapping)
				if !ok {
					return nil, nil, errors.New("the SOPS metadata is not a mapping")
				}
				// An empty JSON object loads as a nil mapping: no metadata.
				section, found, seen = m, m != nil, true
			}
			docs[i] = rest
		}
	}
	if !found {
		return nil, nil, errNoMetadata
	}
	if layout != metadataNested {
		if layout == metadataBelowTop {
			section = unescapeNewlines(section)
		}
		var err error
		if section, err = unflatten(section); err != nil {
			return nil, nil, err
		}
	}
	generic, err := genericValue(section)
	if err != nil {
		return nil, nil, err
	}
	md, err := parseMetadata(generic.(map[string]any))
	if err != nil {
		return nil, nil, err
	}
	return docs, md, nil
}

// unescapeNewlines undoes the "\n" escaping of INI metadata values.
func unescapeNewlines(section mapping) mapping {
	out := make(mapping, len(section))
	for i, e := range section {
		if s, ok := e.value.(string); ok {
			e.value = strings.ReplaceAll(s, `\n`, "\n")
		}
		out[i] = e
	}
	return out
}

// genericValue turns a metadata subtree into maps and slices, without
// comments; a later duplicate key wins.
func genericValue(v any) (any, error) {
	switch v := v.(type) {
	case mapping:
		m := make(map[string]any, len(v))
		for _, e := range v {
			if _, ok := e.key.(comment); ok {
				continue
			}
			k, ok := e.key.(string)
			if !ok {
				return nil, errors.New("the SOPS metadata has a key that is not a string")
			}
			gv, err := genericValue(e.value)
			if err != nil {
				return nil, err
			}
			m[k] = gv
		}
		return m, nil
	case []any:
		s := make([]any, 0, len(v))
		for _, e := range v {
			if _, ok := e.(comment); ok {
				continue
			}
			gv, err := genericValue(e)
			if err != nil {
				return nil, err
			}
			s = append(s, gv)
		}
		return s, nil
	}
	return v, nil
}
