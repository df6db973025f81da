// Package cluster hands a controller the cluster an object asks to act on, as the identity it
// asks for: the controller itself, a service account of the object's namespace (impersonated,
// spec.serviceAccountName or --default-service-account), or a remote cluster described by a
// kubeconfig Secret (spec.kubeConfig.secretRef) or by an address and a service account token
// (spec.kubeConfig.configMapRef, provider generic).
//
// Tenants are hostile. A kubeconfig from a Secret is sanitised before use: only in-line data
// is honoured (server, CA, client certificate and key, token, basic auth), never a file
// reference (tokenFile, client-certificate, ...) that would hand the controller's own
// credentials to a server the tenant chose; exec plugins need --insecure-kubeconfig-exec and
// insecure-skip-tls-verify needs --insecure-kubeconfig-tls. Errors name the Secret and the
// offending field, never a path or a credential.
//
// Clients are built once per identity and cached: a client costs a discovery round trip, and
// the applier remembers what it applied.
package cluster
