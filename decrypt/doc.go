// Package decrypt decrypts SOPS-encrypted manifests and files for the
// kustomize-controller (spec.decryption.provider: sops) and the CLI.
//
// Data keys are recovered from the spec.decryption.secretRef Secret:
//
//   - age identities ("*.agekey") through filippo.io/age and OpenPGP keys
//     ("*.asc") through github.com/ProtonMail/go-crypto, in memory: neither
//     gpg nor a keyring on disk, nor the user's home, is used;
//   - Vault/OpenBao transit keys (hc_vault) with the "sops.vault-token"
//     entry, AWS KMS keys (kms) with the "sops.aws-kms" credentials, GCP
//     KMS keys (gcp_kms) with the "sops.gcp-kms" service account key and
//     Azure Key Vault keys (azure_kv) with the "sops.azure-kv" identity (a
//     service principal's secret or certificate, or a managed identity's
//     client ID), through sops' own per-provider packages (hcvault, kms,
//     gcpkms, azkv), which do not pull sops' root package. Without
//     credentials, AWS, GCP and Azure keys use the controller's own identity
//     (the SDKs' default chains: workload identity), or, when the caller
//     gives one (Decryptor.WithIdentity), the object's own CloudIdentity and
//     never the controller's; Vault keys need the
//     Secret's token, so the controller's own token is never sent to an
//     address a tenant's document names. Credential forms that name files,
//     URLs or commands on the controller are refused. Each provider lives in
//     its own file and a build tag (sops_no_vault, sops_no_awskms,
//     sops_no_gcpkms, sops_no_azurekv) drops it from slim builds. HuaweiCloud
//     KMS keys are not decrypted: errors say so.
//
// Local keys are tried before remote ones, as sops does; a Decryptor is
// immutable and safe for concurrent use.
//
// The SOPS document format is implemented here rather than through sops'
// packages, whose root package links every key service's SDK and its
// command-line machinery (some 65 MB of binary, and resident memory with
// it). It follows sops 3 exactly, and the tests hold it to sops byte for
// byte: values are
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
