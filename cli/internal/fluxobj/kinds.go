// Package fluxobj is how the flux CLI and its web UI address Flux objects: the table of
// kinds, the status summary `flux get` prints, the requests `flux reconcile`, `flux suspend`
// and `flux resume` send, and how a reconciliation's outcome is read from an object. The CLI
// commands and the UI server both use it, so a button in the UI sends exactly what the
// command sends.
package fluxobj

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gotk.dev/cli/pkg/kube"
)

// Kind describes a Flux kind the way the CLI addresses it: `flux get source git`,
// `flux reconcile kustomization`, `--for Kustomization/name`.
type Kind struct {
	// Kind is the API kind, e.g. "GitRepository".
	Kind string
	// GroupVersion is the served version the CLI reads and writes.
	GroupVersion schema.GroupVersion
	// Names are the CLI words for the kind, first is canonical: "git" under "source".
	Names []string
	// Parent is the command word it lives under ("source", "image"), or "".
	Parent string
	// Reconcilable kinds have spec.interval and honour reconcile.fluxcd.io/requestedAt.
	Reconcilable bool
	// Suspendable kinds have spec.suspend.
	Suspendable bool
	// IsSource kinds produce artifacts.
	IsSource bool
	// Static kinds (v1beta3 Alerts and Providers) have no status: once the API server has
	// admitted one, it is in effect; there is nothing to wait for.
	Static bool
}

// GVK is the kind's GroupVersionKind.
func (k Kind) GVK() schema.GroupVersionKind { return k.GroupVersion.WithKind(k.Kind) }

// Display is how upstream flux names the kind in tables and messages ("GitRepository").
func (k Kind) Display() string { return k.Kind }

// The API versions the CLI reads and writes.
var (
	SourceGV       = schema.GroupVersion{Group: "source.toolkit.fluxcd.io", Version: "v1"}
	KustomizeGV    = schema.GroupVersion{Group: "kustomize.toolkit.fluxcd.io", Version: "v1"}
	HelmGV         = schema.GroupVersion{Group: "helm.toolkit.fluxcd.io", Version: "v2"}
	NotificationGV = schema.GroupVersion{Group: "notification.toolkit.fluxcd.io", Version: "v1"}
	NotifyBetaGV   = schema.GroupVersion{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3"}
	ImageGV        = schema.GroupVersion{Group: "image.toolkit.fluxcd.io", Version: "v1"}
)

// kinds is the fixed table of Flux kinds, in the order `flux get all` prints them.
var kinds = []Kind{
	{Kind: "GitRepository", GroupVersion: SourceGV, Names: []string{"git", "gitrepository", "gitrepositories"}, Parent: "source", Reconcilable: true, Suspendable: true, IsSource: true},
	{Kind: "OCIRepository", GroupVersion: SourceGV, Names: []string{"oci", "ocirepository", "ocirepositories"}, Parent: "source", Reconcilable: true, Suspendable: true, IsSource: true},
	{Kind: "HelmRepository", GroupVersion: SourceGV, Names: []string{"helm", "helmrepository", "helmrepositories"}, Parent: "source", Reconcilable: true, Suspendable: true, IsSource: true},
	{Kind: "Bucket", GroupVersion: SourceGV, Names: []string{"bucket", "buckets"}, Parent: "source", Reconcilable: true, Suspendable: true, IsSource: true},
	{Kind: "HelmChart", GroupVersion: SourceGV, Names: []string{"chart", "helmchart", "helmcharts"}, Parent: "source", Reconcilable: true, Suspendable: true, IsSource: true},
	{Kind: "Kustomization", GroupVersion: KustomizeGV, Names: []string{"kustomization", "kustomizations", "ks"}, Reconcilable: true, Suspendable: true},
	{Kind: "HelmRelease", GroupVersion: HelmGV, Names: []string{"helmrelease", "helmreleases", "hr"}, Reconcilable: true, Suspendable: true},
	{Kind: "Alert", GroupVersion: NotifyBetaGV, Names: []string{"alert", "alerts"}, Suspendable: true, Static: true},
	{Kind: "Provider", GroupVersion: NotifyBetaGV, Names: []string{"alert-provider", "alert-providers", "provider", "providers"}, Suspendable: true, Static: true},
	{Kind: "Receiver", GroupVersion: NotificationGV, Names: []string{"receiver", "receivers"}, Reconcilable: true, Suspendable: true},
	{Kind: "ImageRepository", GroupVersion: ImageGV, Names: []string{"repository", "imagerepository", "imagerepositories"}, Parent: "image", Reconcilable: true, Suspendable: true},
	{Kind: "ImagePolicy", GroupVersion: ImageGV, Names: []string{"policy", "imagepolicy", "imagepolicies"}, Parent: "image", Reconcilable: true, Suspendable: true},
	{Kind: "ImageUpdateAutomation", GroupVersion: ImageGV, Names: []string{"update", "imageupdateautomation", "imageupdateautomations"}, Parent: "image", Reconcilable: true, Suspendable: true},
}

// Kinds returns the table of Flux kinds (a copy).
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// LookupKind finds a kind by its API kind ("GitRepository", case-insensitive) or by a CLI
// word under parent ("source", "git"). The error lists what is valid.
func LookupKind(parent, name string) (Kind, error) {
	n := strings.ToLower(name)
	for _, k := range kinds {
		if strings.EqualFold(k.Kind, name) {
			return k, nil
		}
		if k.Parent != parent {
			continue
		}
		for _, alias := range k.Names {
			if alias == n {
				return k, nil
			}
		}
	}
	var valid []string
	for _, k := range kinds {
		if k.Parent == parent {
			valid = append(valid, k.Names[0])
		}
	}
	sort.Strings(valid)
	where := "kind"
	if parent != "" {
		where = parent + " kind"
	}
	return Kind{}, fmt.Errorf("unknown %s %q: valid ones are %s", where, name, strings.Join(valid, ", "))
}

// ParseObjectRef parses "Kind/name" or "Kind/namespace/name" (as --for and flux trace take).
func ParseObjectRef(ref, defaultNamespace string) (Kind, string, string, error) {
	parts := strings.Split(ref, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Kind{}, "", "", fmt.Errorf("invalid reference %q: want Kind/name or Kind/namespace/name", ref)
	}
	k, err := LookupKind("", parts[0])
	if err != nil {
		return Kind{}, "", "", err
	}
	if len(parts) == 3 {
		return k, parts[1], parts[2], nil
	}
	return k, defaultNamespace, parts[1], nil
}

// Status is the summary `flux get` prints for an object; one implementation, in cli/pkg/kube.
type Status = kube.Status

// StatusOf summarizes an object the way upstream flux get does.
func StatusOf(u *unstructured.Unstructured) Status { return kube.StatusOf(u) }
