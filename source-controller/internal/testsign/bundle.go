package testsign

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	sigtlog "github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
)

// BundleMediaType is the media type (and referrer artifact type) of the bundles cosign 3
// attaches to images.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// SignBundle signs digest in repo keyless the way cosign 3 does by default: a DSSE envelope
// over an in-toto statement whose subject is the digest, logged in Rekor with an inclusion
// proof, in a v0.3 Sigstore bundle attached to the digest as an OCI referrer.
func (s *Sigstore) SignBundle(t testing.TB, repo name.Repository, digest string, o KeylessOptions, opts ...remote.Option) {
	t.Helper()
	s.SignBundleOther(t, repo, digest, digest, o, opts...)
}

// SignBundleOther attaches to attachTo a bundle whose statement names signed: a valid
// signature of another artifact, copied over.
func (s *Sigstore) SignBundleOther(t testing.TB, repo name.Repository, attachTo, signed string, o KeylessOptions, opts ...remote.Option) {
	t.Helper()
	alg, hexDigest, _ := strings.Cut(signed, ":")
	statement, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": repo.Name(), "digest": map[string]string{alg: hexDigest}}},
		"predicateType": "https://sigstore.dev/cosign/sign/v1",
		"predicate":     map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	logged := o.LoggedAt
	if logged.IsZero() {
		logged = time.Now()
	}
	entity, err := s.ca.AttestAtTime(o.Identity, o.Issuer, statement, logged, true)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := entity.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := entity.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.(*bundle.Envelope).RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	pbEnv := &protodsse.Envelope{Payload: payload, PayloadType: env.PayloadType}
	for _, sig := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(sig.Sig)
		if err != nil {
			t.Fatal(err)
		}
		pbEnv.Signatures = append(pbEnv.Signatures, &protodsse.Signature{Sig: raw, Keyid: sig.KeyID})
	}
	entries, err := entity.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	var tlog []*protorekor.TransparencyLogEntry
	for _, e := range entries {
		tlog = append(tlog, s.completeEntry(t, e.TransparencyLogEntry()))
	}
	timestamps, err := entity.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	var stamps []*protocommon.RFC3161SignedTimestamp
	for _, ts := range timestamps {
		stamps = append(stamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	data, err := protojson.Marshal(&protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{
				Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TlogEntries:               tlog,
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: stamps},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: pbEnv},
	})
	if err != nil {
		t.Fatal(err)
	}
	AttachReferrer(t, repo, attachTo, BundleMediaType, data, opts...)
}

// emptyConfig is the OCI empty descriptor's content, the config of artifacts without one.
var emptyConfig = []byte("{}")

// AttachReferrer pushes an OCI 1.1 artifact of artifactType holding content as its one layer,
// with digest as its subject. go-containerregistry maintains the referrers tag schema when the
// registry has no referrers API.
func AttachReferrer(t testing.TB, repo name.Repository, digest, artifactType string, content []byte, opts ...remote.Option) {
	t.Helper()
	subject, err := remote.Head(repo.Digest(digest), opts...)
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(content, types.MediaType(artifactType))
	config := static.NewLayer(emptyConfig, types.MediaType("application/vnd.oci.empty.v1+json"))
	for _, l := range []v1.Layer{layer, config} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			t.Fatal(err)
		}
	}
	desc := func(l v1.Layer) v1.Descriptor {
		d, _ := l.Digest()
		size, _ := l.Size()
		mt, _ := l.MediaType()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: size}
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        desc(config),
		Layers:        []v1.Descriptor{desc(layer)},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(repo.Digest(h.String()), rawManifest(raw), opts...); err != nil {
		t.Fatal(err)
	}
}

// rawManifest is an OCI image manifest to push as is.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// completeEntry adds what a Rekor v1 entry in a real bundle carries and the test CA leaves
// out: the entry's kind and version and its inclusion promise (signed entry timestamp).
func (s *Sigstore) completeEntry(t testing.TB, tle *protorekor.TransparencyLogEntry) *protorekor.TransparencyLogEntry {
	t.Helper()
	var body struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(tle.CanonicalizedBody, &body); err != nil {
		t.Fatal(err)
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: body.Kind, Version: body.APIVersion}
	set, err := s.ca.RekorSignPayload(sigtlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime, LogIndex: tle.LogIndex, LogID: hex.EncodeToString(tle.LogId.KeyId)})
	if err != nil {
		t.Fatal(err)
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}
