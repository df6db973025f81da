// Package controller reconciles ImageRepositories (scan a registry for tags on an interval,
// keep them in the tag database) and ImagePolicies (choose the latest tag of an
// ImageRepository, optionally with its digest). The registry access, the tag database and
// the selection rules are the domain packages registry, tagstore and policy; this package
// wires them to the API objects through the SDK's reconcile engine.
package controller

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/image-reflector-controller/internal/tagstore"
	"gotk.dev/pkg/auth/cloud"
)

// Config is what the ImageRepository and ImagePolicy reconcilers are built from.
type Config struct {
	// Store is the tag database under --storage-path.
	Store *tagstore.Store
	// NoCrossNamespaceRefs is --no-cross-namespace-refs: an ImagePolicy may then only use an
	// ImageRepository of its own namespace, whatever the repository's accessFrom says.
	NoCrossNamespaceRefs bool
	// UserAgent is sent with every registry request.
	UserAgent string
	// Transport is the base HTTP transport of registry clients (nil: go-containerregistry's
	// default, which honours HTTPS_PROXY and NO_PROXY).
	Transport *http.Transport
	// Client overrides the manager's client (tests count its requests).
	Client client.Client
	// CloudLogins logs in to registries for spec.provider aws, azure and gcp (nil: one
	// without a token cache).
	CloudLogins *cloud.Logins
}

// storeKey is the tag database key of an ImageRepository: its namespace and name, so that
// repositories scanned with different credentials never share tags.
func storeKey(namespace, name string) string { return namespace + "/" + name }

// secretData reads a Secret (uncached: the manager does not cache Secrets).
func secretData(ctx context.Context, c client.Reader, namespace, name string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return nil, err
	}
	return s.Data, nil
}
