// Package registry logs in to the container registries of AWS (ECR), Azure (ACR) and Google
// Cloud (Artifact Registry, Container Registry) with a cloud workload identity: what
// OCIRepository, HelmRepository (type oci) and ImageRepository mean by spec.provider aws,
// azure or gcp. Keychain returns a go-containerregistry keychain for the object's registry.
//
// The identities and their exchanges (the controller's, or a service account's with the
// ObjectLevelWorkloadIdentity gate) are gotk.dev/pkg/auth/cloud's, shared with Git, KMS and
// object storage; this package adds what only registries need (ECR GetAuthorizationToken,
// the ACR refresh token exchange, Google's registry user name, the keychain) so that Git
// consumers of pkg/auth/cloud do not link the registry SDKs.
//
// The exchanges go through the object's spec.proxySecretRef proxy (Request.Proxy), as the
// pull itself does. Credentials are cached in the Logins' auth.TokenCache per provider,
// host, identity and proxy until shortly before they expire.
package registry
