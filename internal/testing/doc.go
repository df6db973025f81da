// Package testing is the root of gotk's test infrastructure: real servers and helpers the
// tests of every module share, written once. It is not part of the SDK (gotk.dev/pkg) and
// imports no controller or API module, so the SDK's own tests can use it without the SDK
// depending on the products. Being under gotk.dev/internal, only this repository's modules
// can import it.
//
//   - testenv: a real kube-apiserver and etcd (controller-runtime envtest) with the Flux CRDs,
//     TestMain helpers and RunManager (a suite's controller manager).
//   - requestlog: the API requests a REST config's clients send, and per-scenario tallies of
//     them for benchmarks.
//   - testkind: a small Flux-style kind (TestObject) for tests of the SDK itself.
//   - gitserver, githubapi, registry: a Git server (HTTP and SSH), a GitHub-API-compatible
//     server in front of it, an OCI registry. gitserver.NewProxy is the forward proxy (CONNECT
//     and plain HTTP, basic proxy auth) every spec.proxySecretRef test uses: ServedTo counts
//     per target host, Dial (cloudapi.DialContext) reaches servers under cloud host names.
//   - helmrepo: a static Helm chart repository (index.yaml and archives, basic auth, TLS), the
//     podinfo chart fixture, chart packaging and `helm push` to a registry.
//   - s3server, azurite: S3 (versitygw) and Azure Blob (Azurite) servers for Bucket sources.
//   - gitea, gitlabapi, bitbucketapi: a real Gitea, and GitLab- and Bitbucket-Server-API
//     servers in front of the Git server, for bootstrap; hostingapi is the HTTPS front the
//     three API servers share.
//   - cloudapi, azurekvapi, gcpkmsapi, vaultapi, kmsserver: the cloud identity and KMS
//     endpoints no cloud serves here (AWS STS and ECR, Entra ID and ACR, the GCE metadata
//     server, Google STS and IAM, Azure Key Vault, GCP KMS, Vault transit), written to their
//     public API references, and the real local-kms (AWS KMS); codecommitapi, AWS CodeCommit's
//     Git HTTPS endpoint checking SigV4 Git credentials in front of the Git server.
//   - dex: a real OpenID Connect provider (Dex) for the web UI's sign-in.
//   - alertsink: a central alerting endpoint with per-tenant HMAC keys (generic-hmac).
//   - kubelet: a stand-in kubelet that finishes Pods and rolls Deployments out.
//   - peer: finding, starting, waiting for and stopping the peers that run as processes.
//   - pki: the throwaway certificate authority every TLS peer above uses.
//   - logcapture: a controller's log kept in memory, to prove no token or secret is logged.
//   - eventsink: a stand-in notification-controller endpoint that records posted events.
//   - golden: golden-file assertions.
//   - ports: free loopback ports.
//   - tcpproxy: a TCP pass-through that can cut and restore a server (a spoke's API outage).
//   - workspace: the repository root, bin/ and ../shared.
package testing
