package decrypt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/shamir"
	"github.com/getsops/sops/v3/version"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// ageKey is a fresh age identity and the sops master key for its recipient.
func ageKey(t testing.TB) (*age.X25519Identity, *sopsage.MasterKey) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	mk, err := sopsage.MasterKeyFromRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	return id, mk
}

// pgpKey is a fresh OpenPGP key: its armored private key (what a user puts
// in the decryption Secret) and a sops master key that encrypts to it
// through a public keyring file in a test directory.
func pgpKey(t testing.TB, cfg *packet.Config) ([]byte, *pgp.MasterKey) {
	t.Helper()
	e, err := openpgp.NewEntity("Flux Test", "", "flux@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var priv bytes.Buffer
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(t.TempDir(), "pubring.gpg")
	if err := os.WriteFile(ring, pub.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	mk := pgp.NewMasterKeyFromFingerprint(strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	pgp.PubRing(ring).ApplyToMasterKey(mk)
	return priv.Bytes(), mk
}

// encrypt encrypts plain (of the format its name's extension says) with
// sops' library, as `sops --encrypt` does, for the given master keys; regex
// is the --encrypted-regex ("" encrypts every value).
func encrypt(t testing.TB, name string, plain []byte, regex string, mks ...keys.MasterKey) []byte {
	t.Helper()
	return encryptDoc(t, name, plain, encOpts{rules: sops.Metadata{EncryptedRegex: regex}, groups: [][]keys.MasterKey{mks}})
}

// encOpts are the sops options of a test encryption.
type encOpts struct {
	// rules holds the encryption rule (at most one of the suffix and regex
	// fields) and MACOnlyEncrypted; the other fields are ignored. Without a
	// rule, sops' default unencrypted suffix applies.
	rules sops.Metadata
	// groups are the key groups; with more than one, the data key is split
	// with Shamir's scheme and threshold shares are needed.
	groups    [][]keys.MasterKey
	threshold int
}

// testDataKey is the data key of every test encryption.
func testDataKey() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i*7 + 3)
	}
	return k
}

// encryptDoc encrypts plain with sops' library as `sops --encrypt` does.
func encryptDoc(t testing.TB, name string, plain []byte, o encOpts) []byte {
	t.Helper()
	store := common.DefaultStoreForPath(config.NewStoresConfig(), name)
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	md := sops.Metadata{
		UnencryptedSuffix:       o.rules.UnencryptedSuffix,
		EncryptedSuffix:         o.rules.EncryptedSuffix,
		UnencryptedRegex:        o.rules.UnencryptedRegex,
		EncryptedRegex:          o.rules.EncryptedRegex,
		UnencryptedCommentRegex: o.rules.UnencryptedCommentRegex,
		EncryptedCommentRegex:   o.rules.EncryptedCommentRegex,
		MACOnlyEncrypted:        o.rules.MACOnlyEncrypted,
		Version:                 version.Version,
	}
	if md.UnencryptedSuffix+md.EncryptedSuffix+md.UnencryptedRegex+md.EncryptedRegex+md.UnencryptedCommentRegex+md.EncryptedCommentRegex == "" {
		md.UnencryptedSuffix = sops.DefaultUnencryptedSuffix
	}
	dataKey := testDataKey()
	shares := [][]byte{dataKey}
	if len(o.groups) > 1 {
		md.ShamirThreshold = o.threshold
		if shares, err = shamir.Split(dataKey, len(o.groups), o.threshold); err != nil {
			t.Fatal(err)
		}
	}
	// The master keys encrypt the data key themselves (not through sops'
	// local key service, which would look for keys in the user's home).
	for i, g := range o.groups {
		for _, mk := range g {
			if err := mk.Encrypt(shares[i]); err != nil {
				t.Fatal(err)
			}
		}
		md.KeyGroups = append(md.KeyGroups, sops.KeyGroup(g))
	}
	tree := sops.Tree{Branches: branches, Metadata: md}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher(), DataKey: dataKey}); err != nil {
		t.Fatal(err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// toObject parses one YAML document as the build step hands objects over.
func toObject(t testing.TB, y []byte) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: aHVudGVyMg==
stringData:
  username: admin
  token: s3cr3t-t0ken
`

// assertNoLeak fails when text contains any of the secrets.
func assertNoLeak(t testing.TB, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%q leaks %q", text, s)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
