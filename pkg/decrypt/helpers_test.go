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
	store := common.DefaultStoreForPath(config.NewStoresConfig(), name)
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	tree := sops.Tree{
		Branches: branches,
		Metadata: sops.Metadata{
			KeyGroups:         []sops.KeyGroup{mks},
			EncryptedRegex:    regex,
			UnencryptedSuffix: "",
			Version:           version.Version,
		},
	}
	if regex == "" {
		tree.Metadata.UnencryptedSuffix = sops.DefaultUnencryptedSuffix
	}
	dataKey := make([]byte, 32)
	for i := range dataKey {
		dataKey[i] = byte(i*7 + 3)
	}
	// The master keys encrypt the data key themselves (not through sops'
	// local key service, which would look for keys in the user's home).
	for _, mk := range mks {
		if err := mk.Encrypt(dataKey); err != nil {
			t.Fatal(err)
		}
	}
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
