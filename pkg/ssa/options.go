package ssa

import (
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gotk.dev/pkg/inventory"
)

// The values of the per-object <Group>/reconcile and <Group>/force annotations, as Flux
// documents them (compared without regard to case).
const (
	EnabledValue  = "enabled"
	DisabledValue = "disabled"
)

// Owner names the controller applying objects.
type Owner struct {
	// Field is the server-side apply field manager, e.g. "kustomize-controller".
	Field string
	// Group prefixes the per-object annotations the engine reads (<Group>/ssa, <Group>/force,
	// <Group>/reconcile), e.g. "kustomize.toolkit.fluxcd.io".
	Group string
}

func (o Owner) key(name string) string { return o.Group + "/" + name }

// IgnoreRule names JSON pointer paths (RFC 6901, e.g. /spec/replicas) the apply leaves
// alone on the objects Target selects (all objects when nil): the paths are never sent to the
// API server once the object exists, and field managers editing them keep their ownership.
type IgnoreRule struct {
	Paths  []string
	Target *kustomize.Selector
}

// DefaultCleanupManagers returns the field managers whose fields the apply takes over by
// default, so that `kubectl edit/patch/apply/scale/...` changes to applied objects are
// reverted. Each entry matches a manager name by prefix: "kubectl" covers every kubectl-*
// manager; "before-first-apply" owns the fields of objects created before any server-side apply.
func DefaultCleanupManagers() []string {
	return []string{"kubectl", "kubectl-client-side-apply", "kubectl-edit", "kubectl-patch", "before-first-apply"}
}

// defaultWaitCRDs bounds the wait for new CustomResourceDefinitions when ApplyOptions.WaitCRDs
// is zero.
const defaultWaitCRDs = 30 * time.Second

// ApplyOptions changes how ApplyAllStaged treats the objects.
type ApplyOptions struct {
	// Force recreates objects whose update fails on an immutable field (spec.force).
	Force bool
	// ForceSelector: objects carrying one of these annotations or labels (values compared
	// without regard to case) are forced too. Nil means {<Group>/force: enabled}.
	ForceSelector map[string]string
	// IgnoreRules are paths the apply leaves alone (spec.ignore).
	IgnoreRules []IgnoreRule
	// CleanupManagers are field managers whose ownership the apply takes over, by name
	// prefix. Nil means DefaultCleanupManagers(); an empty non-nil slice takes over nothing.
	// Fields owned by our own manager through an Update (not Apply) are always taken over.
	CleanupManagers []string
	// WaitCRDs bounds the wait for CustomResourceDefinitions applied in the first stage to
	// become Established (and served), before objects of their kinds are applied. Zero
	// means 30s.
	WaitCRDs time.Duration
	// PreviousInventory is the inventory of the last successful apply. It tells created
	// objects from updated ones without a GET (see classify) and whether an object's ignored
	// paths were ever applied. Nil means unknown: ignored paths are then never sent.
	PreviousInventory *inventory.Inventory
	// CustomStageKinds are applied in a stage of their own, after the custom resource
	// definitions, namespaces and classes and before the rest (--custom-apply-stage-kinds).
	CustomStageKinds []schema.GroupKind
	// Concurrency bounds the objects of a stage applied at once (--concurrent-ssa); zero
	// means 4.
	Concurrency int
}

func (o *ApplyOptions) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return concurrency
}

// policy is the per-object apply behaviour selected by the <Group>/ssa annotation.
type policy int

const (
	policyOverride policy = iota
	policyMerge
	policyIfNotPresent
	policyIgnore
)

// policyOf reads the object's <Group>/ssa annotation (values without regard to case).
// <Group>/reconcile: disabled in the manifest behaves as IfNotPresent: the object is created
// when missing and never updated afterwards.
func (m *Manager) policyOf(u *unstructured.Unstructured) policy {
	ann := u.GetAnnotations()
	switch strings.ToLower(ann[m.owner.key("ssa")]) {
	case "ignore":
		return policyIgnore
	case "ifnotpresent":
		return policyIfNotPresent
	case "merge":
		if isDisabled(ann[m.owner.key("reconcile")]) {
			return policyIfNotPresent
		}
		return policyMerge
	}
	if isDisabled(ann[m.owner.key("reconcile")]) {
		return policyIfNotPresent
	}
	return policyOverride
}

func isDisabled(v string) bool { return strings.EqualFold(v, DisabledValue) }

// forced reports whether an immutable-field error on u may be solved by recreating it.
func (m *Manager) forced(u *unstructured.Unstructured, opts *ApplyOptions) bool {
	if opts.Force {
		return true
	}
	sel := opts.ForceSelector
	if sel == nil {
		sel = map[string]string{m.owner.key("force"): EnabledValue}
	}
	return anyInMetadata(u.GetAnnotations(), u.GetLabels(), sel)
}

// anyInMetadata reports whether one key=value of sel is an annotation or a label (values
// compared without regard to case).
func anyInMetadata(annotations, labels, sel map[string]string) bool {
	for k, want := range sel {
		if v, ok := annotations[k]; ok && strings.EqualFold(v, want) {
			return true
		}
		if v, ok := labels[k]; ok && strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// isCleanupManager reports whether entry e belongs to a manager whose fields the apply
// takes over.
func (m *Manager) isCleanupManager(e map[string]any, managers []string) bool {
	name, _ := e["manager"].(string)
	if name == m.owner.Field {
		op, _ := e["operation"].(string)
		return op == string(metav1.ManagedFieldsOperationUpdate)
	}
	for _, prefix := range managers {
		if prefix != "" && strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

func (o *ApplyOptions) cleanupManagers() []string {
	if o.CleanupManagers == nil {
		return DefaultCleanupManagers()
	}
	return o.CleanupManagers
}

func (o *ApplyOptions) waitCRDs() time.Duration {
	if o.WaitCRDs <= 0 {
		return defaultWaitCRDs
	}
	return o.WaitCRDs
}
