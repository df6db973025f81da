package app

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

// The kind table and status summary live in fluxobj, shared with the web UI (flux ui).
// These names keep the commands' code as it was.
type (
	// Kind describes a Flux kind the way the CLI addresses it.
	Kind = fluxobj.Kind
	// Status is the summary `flux get` prints for an object.
	Status = fluxobj.Status
)

// The API versions the CLI reads and writes.
var (
	sourceGV       = fluxobj.SourceGV
	kustomizeGV    = fluxobj.KustomizeGV
	notificationGV = fluxobj.NotificationGV
)

// Kinds returns the table of Flux kinds (a copy).
func Kinds() []Kind { return fluxobj.Kinds() }

// LookupKind finds a kind by its API kind or by a CLI word under parent.
func LookupKind(parent, name string) (Kind, error) { return fluxobj.LookupKind(parent, name) }

// ParseObjectRef parses "Kind/name" or "Kind/namespace/name".
func ParseObjectRef(ref, defaultNamespace string) (Kind, string, string, error) {
	return fluxobj.ParseObjectRef(ref, defaultNamespace)
}

// StatusOf summarizes an object the way upstream flux get does.
func StatusOf(u *unstructured.Unstructured) Status { return fluxobj.StatusOf(u) }
