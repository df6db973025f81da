package v1

// ResourceInventory is the list of objects a Kustomization applied in its
// last successful reconciliation.
type ResourceInventory struct {
	// Entries are the applied objects.
	// +required
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one applied object in the cluster.
type ResourceRef struct {
	// ID identifies the object as '<namespace>_<name>_<group>_<kind>'; the
	// namespace is empty for cluster-scoped objects and the group is empty
	// for the core API group.
	// +required
	ID string `json:"id"`

	// Version is the API version of the object's kind, e.g. 'v1'.
	// +required
	Version string `json:"v"`
}
