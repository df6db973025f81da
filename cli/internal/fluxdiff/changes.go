// Package fluxdiff computes what the next reconcile of a Kustomization or HelmRelease would
// change: it builds the Kustomization's manifests or renders the HelmRelease's chart the way
// the controller does, dry-runs them with server-side apply as the controller's field
// manager, and lists the objects that would be created, would drift, or would be pruned.
// `flux diff kustomization`, `flux diff helmrelease` and the web UI (flux ui) share it: the
// CLI prints the changes as unified diffs, the UI shows them side by side.
package fluxdiff

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
	"gotk.dev/pkg/ssa"
)

// Action is what the next reconcile would do to one object.
type Action string

// The actions a diff reports.
const (
	Created Action = "created"
	Drifted Action = "drifted"
	Deleted Action = "deleted"
)

// Change is one object the next reconcile would change.
type Change struct {
	Action Action
	// Object names it: Kind/namespace/name, as flux diff prints it.
	Object inventory.ObjMetadata
	// Live and Merged are the object in the cluster and after the apply (Merged only for
	// Created), with the fields every write changes removed and Secret values masked
	// (Diffable).
	Live, Merged *unstructured.Unstructured
}

// Request is what to diff: the desired objects, applied by owner's field manager with its
// ignore rules, against what the cluster has; Applied (the object's status.inventory, nil
// when it does not prune) says what a prune would delete. KeepKinds are never pruned
// (CustomResourceDefinitions for a HelmRelease).
type Request struct {
	Owner       ssa.Owner
	Objects     []*unstructured.Unstructured
	IgnoreRules []ssa.IgnoreRule
	Applied     *inventory.Inventory
	KeepKinds   []string
}

// Compute dry-runs the request and returns the changes, in the order the apply would make
// them, then the deletions. A failed dry-run returns the changes found so far with the error
// (the deletions are left out: they would be guesses).
func Compute(ctx context.Context, c client.Client, r Request) ([]Change, error) {
	m := ssa.NewManager(c, r.Owner)
	entries, diffErr := m.Diff(ctx, r.Objects, ssa.ApplyOptions{IgnoreRules: r.IgnoreRules})
	var out []Change
	for _, e := range entries {
		switch e.Action {
		case ssa.Created:
			ch := Change{Action: Created, Object: e.ObjMetadata}
			if e.Merged != nil {
				ch.Merged = Diffable(e.Merged)
				if ch.Merged.GetKind() == "Secret" && ch.Merged.GetAPIVersion() == "v1" {
					MaskSecretValues(&unstructured.Unstructured{Object: map[string]any{}}, ch.Merged)
				}
			}
			out = append(out, ch)
		case ssa.Configured:
			if e.Live == nil || e.Merged == nil {
				continue
			}
			live, merged := Diffable(e.Live), Diffable(e.Merged)
			if live.GetKind() == "Secret" && live.GetAPIVersion() == "v1" {
				MaskSecretValues(live, merged)
			}
			same, err := sameYAML(live, merged)
			if err != nil {
				return out, fmt.Errorf("%s: %w", e.ObjMetadata, err)
			}
			if same {
				continue // only fields the diff leaves out (managedFields, generation) moved
			}
			out = append(out, Change{Action: Drifted, Object: e.ObjMetadata, Live: live, Merged: merged})
		}
	}
	if diffErr != nil {
		return out, fmt.Errorf("server-side dry-run failed: %w", diffErr)
	}
	if r.Applied != nil {
		for _, stale := range inventory.Diff(r.Applied, inventory.New(r.Objects)) {
			if keep(r.KeepKinds, stale.Kind) {
				continue
			}
			out = append(out, Change{Action: Deleted, Object: stale})
		}
	}
	return out, nil
}

func keep(kinds []string, kind string) bool {
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}
