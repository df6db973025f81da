// Package ociverify verifies the signatures of OCI artifacts and OCI Helm charts before
// source-controller stores them (OCIRepository and HelmChart spec.verify):
//
//   - cosign with public keys (the `*.pub` entries of spec.verify.secretRef);
//   - cosign keyless: a Fulcio certificate whose OIDC issuer and subject match one of
//     spec.verify.matchOIDCIdentity (Go regular expressions; any identity when the list is
//     empty, as upstream), checked against Sigstore's public trusted root or the
//     trusted_root.json of spec.verify.trustedRootSecretRef, or the controller's private
//     Sigstore for objects naming none (LocalRoot: --sigstore-trusted-root, or cosign's
//     SIGSTORE_ROOT_FILE and SIGSTORE_REKOR_PUBLIC_KEY; see docs/verification.md);
//   - notation with the CA certificates (`*.pem`, `*.crt`) and `trustpolicy.json` of
//     spec.verify.secretRef.
//
// Cosign signatures are found where cosign stores them: the `sha256-<hex>.sig` tag of the
// artifact's repository (simple-signing payloads, what cosign 2 writes) and Sigstore bundles
// attached as OCI referrers (what cosign 3 writes by default). The verification itself is
// sigstore-go's (certificate chain, transparency log entry, signed timestamps, identity
// policy) and notation-go's (trust policy, trust store, signature envelope); this package only
// fetches what they need from the registry with the object's credentials and says, in one
// error, what was found and why none of it verified.
package ociverify
