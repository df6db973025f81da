package testsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

const simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"

// Key is a cosign key pair (ECDSA P-256, as `cosign generate-key-pair`).
type Key struct {
	priv *ecdsa.PrivateKey
	// PublicPEM is what goes into a `*.pub` Secret entry.
	PublicPEM []byte
}

// NewKey generates a key pair.
func NewKey(t testing.TB) *Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &Key{priv: priv, PublicPEM: pub}
}

func (k *Key) sign(t testing.TB, payload []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// Signer returns the key as a crypto.Signer.
func (k *Key) Signer() crypto.Signer { return k.priv }

// Payload is the simple-signing document cosign signs for digest in repo.
func Payload(repo name.Repository, digest string) []byte {
	doc := map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": repo.Name()},
			"image":    map[string]string{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	}
	b, _ := json.Marshal(doc)
	return b
}

// SignLegacy signs digest in repo with the key and appends the signature to the artifact's
// `.sig` tag, as `cosign sign --key --tlog-upload=false` does.
func (k *Key) SignLegacy(t testing.TB, repo name.Repository, digest string, opts ...remote.Option) {
	t.Helper()
	payload := Payload(repo, digest)
	AppendLegacy(t, repo, digest, payload, map[string]string{
		"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(k.sign(t, payload)),
	}, opts...)
}

// SignLegacyOther signs signed's payload but attaches the signature to attachTo: a valid
// signature of another artifact, copied over.
func (k *Key) SignLegacyOther(t testing.TB, repo name.Repository, attachTo, signed string, opts ...remote.Option) {
	t.Helper()
	payload := Payload(repo, signed)
	AppendLegacy(t, repo, attachTo, payload, map[string]string{
		"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(k.sign(t, payload)),
	}, opts...)
}

// AppendLegacy adds one simple-signing layer with annotations to the `.sig` tag of digest.
func AppendLegacy(t testing.TB, repo name.Repository, digest string, payload []byte, annotations map[string]string, opts ...remote.Option) {
	t.Helper()
	tag := repo.Tag(strings.Replace(digest, ":", "-", 1) + ".sig")
	var img v1.Image = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if existing, err := remote.Image(tag, opts...); err == nil {
		img = existing
	}
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(payload, simpleSigningMediaType), Annotations: annotations})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		t.Fatal(err)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
