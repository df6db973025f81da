// Package cloud gets credentials with a cloud workload identity: the Git credentials of
// Azure Repos (an Entra ID token) and AWS CodeCommit (SigV4-signed, as git-remote-codecommit
// derives them) for a GitRepository's spec.provider azure or aws (see
// gotk.dev/pkg/auth/gitprovider), a service account's KMS credentials (kms.go) and object
// storage credentials (storage.go). Registry logins (spec.provider of OCIRepository,
// HelmRepository type oci and ImageRepository) are in the sub-package
// gotk.dev/pkg/auth/cloud/registry, which builds on the identities here, so that Git
// consumers do not link the registry SDKs.
//
// The identity is the controller's own, found by each cloud's official SDK the way any
// workload on that cloud finds it: the AWS default credential chain (IRSA web identity, EKS
// Pod Identity, environment, IMDS), Azure's DefaultAzureCredential (workload identity,
// managed identity, environment) and Google's Application Default Credentials (GKE workload
// identity through the metadata server, a credentials file). The SDKs honour their
// documented endpoint overrides (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_ECR,
// AZURE_AUTHORITY_HOST, GCE_METADATA_HOST), which is how the tests point them at local
// servers.
//
// With the ObjectLevelWorkloadIdentity gate, a Kubernetes service account's identity is used
// instead (objectlevel.go): its token (TokenRequest) exchanged at AWS STS for the role of
// eks.amazonaws.com/role-arn, at Microsoft Entra ID for the client of
// azure.workload.identity/client-id, or at Google's STS for the pool of
// gcp.auth.fluxcd.io/workload-identity-provider (outside GKE) or the GKE cluster's, then
// impersonating iam.gke.io/gcp-service-account. Registries, KMS keys (kms.go) and object
// storage (storage.go) share these exchanges (ServiceAccountAWS, ServiceAccountAzure, and
// gotk.dev/pkg/auth/cloud/gcp's TokenSource, apart so that Git consumers do not link
// Google's SDK). Via(proxy) sends them through an object's spec.proxySecretRef proxy.
//
// Credentials are cached in an auth.TokenCache (--token-cache-max-size,
// --token-cache-max-duration) until shortly before they expire. Errors name the provider,
// the identity and the endpoint that failed, never a token.
package cloud
