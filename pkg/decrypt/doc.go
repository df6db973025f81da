// Package decrypt decrypts SOPS-encrypted manifests and files for the
// kustomize-controller (spec.decryption.provider: sops), with the age and
// OpenPGP private keys of the spec.decryption.secretRef Secret.
//
// Keys live in memory only. SOPS' own key sources read keys from the
// environment, the user's home (~/.config/sops/age/keys.txt, ~/.gnupg) or a
// GnuPG home driven through the gpg binary; none of that is used here.
// Instead a key service (sops' pluggable interface for recovering the data
// key) answers from the parsed identities: age identities through
// filippo.io/age and OpenPGP keys through github.com/ProtonMail/go-crypto,
// so neither gpg nor a temporary keyring on disk is needed, and a Decryptor
// is immutable and safe for concurrent use.
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
