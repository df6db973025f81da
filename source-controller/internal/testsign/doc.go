// Package testsign signs OCI artifacts for tests the way the real tools store signatures:
// cosign with a key and cosign keyless (`sha256-<hex>.sig` simple-signing layers with
// cosign's annotations, and Sigstore bundles as OCI referrers), on a private Sigstore from
// sigstore-go's test infrastructure (a virtual Fulcio CA, Rekor log and timestamp authority),
// and notation through notation-go's own signer and registry client.
//
// It is imported by tests only.
package testsign
