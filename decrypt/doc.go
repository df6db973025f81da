// Package decrypt decrypts SOPS-encrypted manifests and files for the
// kustomize-controller (spec.decryption.provider: sops), with the age and
// OpenPGP private keys of the spec.decryption.secretRef Secret.
//
// Keys live in memory only. SOPS' own key sources read keys from the
// environment, the user's home (~/.config/sops/age/keys.txt, ~/.gnupg) or a
// GnuPG home driven through the gpg binary; none of that is used here. The
// data key is recovered from the parsed identities: age identities through
// filippo.io/age and OpenPGP keys through github.com/ProtonMail/go-crypto,
// so neither gpg nor a temporary keyring on disk is needed, and a Decryptor
// is immutable and safe for concurrent use.
//
// The SOPS document format is implemented here rather than through sops'
// packages, whose root package links the AWS, Azure, GCP and Vault SDKs
// (some 65 MB of binary, and resident memory with it) for key types this
// package does not support. It follows sops 3 exactly, and the tests hold
// it to sops byte for byte: values are
// ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] with the key path as
// additional data (cipher.go), the tree walk decides
// what is encrypted by the metadata's suffix and regex rules and hashes the
// MAC as it goes (tree.go, rules.go), the metadata is read as sops reads it
// (metadata*.go, flatten.go), and each format is parsed and written with
// the libraries sops uses (yaml.go, json.go, dotenv.go, ini.go).
//
// Two kinds of input are handled:
//
//   - Objects from the build output that carry SOPS metadata (a top-level
//     "sops" key), typically Secrets encrypted with
//     `sops --encrypt --encrypted-regex '^(data|stringData)$'`, and Secrets
//     whose data value is a whole SOPS-encrypted file (a secretGenerator
//     "files:" entry). See DecryptObjects for how integrity is checked.
//   - Files (YAML, JSON, dotenv, INI or binary) read by kustomize, for
//     generators: DecryptFile returns the plaintext with the full SOPS MAC
//     verified.
//
// Errors name the object or file and the key types that were tried, and
// never contain key material or decrypted values.
package decrypt
