// Package gcp exchanges a Kubernetes service account's token for Google access tokens
// (workload identity federation at Google's STS, then impersonation of the Google service
// account iam.gke.io/gcp-service-account names): the identity of objects with spec.provider
// gcp and spec.serviceAccountName, for registries (gotk.dev/pkg/auth/cloud/registry), KMS
// keys (kustomize-controller) and GCS buckets (source-controller). It is apart from
// gotk.dev/pkg/auth/cloud so that Git consumers, which have no Google provider, do not link
// Google's SDK.
package gcp
