package ociverify

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PublicKeySuffix marks the Secret entries holding cosign public keys.
const PublicKeySuffix = ".pub"

type namedKey struct {
	name     string
	verifier signature.Verifier
}

// cosignKeys verifies cosign signatures made with one of a set of keys. Like upstream, the
// transparency log is not consulted for key-based signatures: the key is the trust.
type cosignKeys struct{ keys []namedKey }

// NewCosignKeys reads the `*.pub` entries of a verification Secret. An entry that is not a
// PEM public key is an error naming it; a Secret without any is an error too.
func NewCosignKeys(secret map[string][]byte) (Verifier, error) {
	var names []string
	for n := range secret {
		if strings.HasSuffix(n, PublicKeySuffix) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no cosign public key: the Secret has no '*%s' entry", PublicKeySuffix)
	}
	slices.Sort(names)
	v := &cosignKeys{}
	for _, n := range names {
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(secret[n])
		if err != nil {
			return nil, fmt.Errorf("entry '%s' is not a PEM-encoded public key", n)
		}
		sv, err := signature.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("entry '%s': unsupported public key: %w", n, err)
		}
		v.keys = append(v.keys, namedKey{name: n, verifier: sv})
	}
	return v, nil
}

func (v *cosignKeys) Verify(ctx context.Context, t Target) (string, error) {
	sigs, err := legacySignatures(ctx, t)
	if err != nil {
		return "", err
	}
	var f failures
	for _, s := range sigs {
		raw, err := base64.StdEncoding.DecodeString(s.annotations[annotationSignature])
		if err != nil || len(raw) == 0 {
			f.add("a signature layer has no valid '%s' annotation", annotationSignature)
			continue
		}
		key, err := v.match(raw, s.payload)
		if err != nil {
			f.add("%v", err)
			continue
		}
		if err := checkPayload(s.payload, t); err != nil {
			f.add("signed with key '%s', but %v", key, err)
			continue
		}
		return fmt.Sprintf("cosign signature verified with key '%s'", key), nil
	}
	if bundles, err := bundleSignatures(ctx, t); err != nil {
		return "", err
	} else if len(bundles) > 0 {
		if who, err := v.verifyBundles(bundles, t, &f); err == nil {
			return who, nil
		}
	}
	return "", f.err(t, "cosign")
}

func (v *cosignKeys) match(sig, payload []byte) (string, error) {
	for _, k := range v.keys {
		if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)) == nil {
			return k.name, nil
		}
	}
	return "", errors.New("not signed by any of the trusted keys")
}
