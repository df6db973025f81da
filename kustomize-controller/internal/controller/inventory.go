package controller

import (
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/inventory"
)

// fromStatusInventory converts status.inventory to the SDK's inventory (nil stays nil).
func fromStatusInventory(in *kustomizev1.ResourceInventory) *inventory.Inventory {
	if in == nil {
		return nil
	}
	out := &inventory.Inventory{Entries: make([]inventory.Entry, len(in.Entries))}
	for i, e := range in.Entries {
		out.Entries[i] = inventory.Entry(e)
	}
	return out
}

// toStatusInventory converts the SDK's inventory to status.inventory (nil stays nil).
func toStatusInventory(in *inventory.Inventory) *kustomizev1.ResourceInventory {
	if in == nil {
		return nil
	}
	out := &kustomizev1.ResourceInventory{Entries: make([]kustomizev1.ResourceRef, len(in.Entries))}
	for i, e := range in.Entries {
		out.Entries[i] = kustomizev1.ResourceRef(e)
	}
	return out
}
