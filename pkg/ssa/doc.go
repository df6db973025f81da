// Package ssa is the server-side apply engine of the controllers: it applies objects in
// stages, prunes stale ones and diffs manifests against the cluster.
//
// The design goal is few API requests. Applying an object costs one server-side apply
// request, whose response both updates the object in place (the caller evaluates health from
// it) and tells what the apply did, without a GET or dry-run before it (see classify). An
// unchanged object is a no-op on the API server. Extra requests are spent only where the
// behaviour needs them:
//
//   - <group>/ssa: IfNotPresent (and <group>/reconcile: disabled): one GET; the object is
//     applied only when it does not exist, and left alone (Skipped) otherwise.
//   - <group>/ssa: Ignore: no request at all (Skipped).
//   - <group>/ssa: Merge: applied, the fields other managers own are kept.
//   - <group>/ssa: Override (the default): applied; when the response shows fields owned by
//     kubectl (edit, patch, scale, client-side apply...) or "before-first-apply", one JSON
//     patch of metadata.managedFields gives them to our manager and a second apply removes
//     what is not in the manifest, so in-cluster edits are reverted in the same reconcile.
//   - Ignore rules (JSON pointers with an optional target): the paths are removed from what
//     is sent once the object exists, and excluded from the fields taken over, so in-cluster
//     edits of them are kept. When the previous inventory says the object is new, the full
//     manifest is sent (the object starts from the manifest's values) and one managed-fields
//     patch makes our manager release the ignored paths, so later applies without them do
//     not delete them. When the inventory is unknown (nil) or stale and the apply without
//     the ignored paths turns out to have created the object, the full manifest is applied
//     once more, so a created object always starts from the manifest's values.
//   - Immutable field errors with force (option or <group>/force: enabled): delete, wait
//     until gone, apply again (Created).
//   - New CustomResourceDefinitions: polled until Established and served.
//
// Known limits of the request-free approach: an annotation set on the live object only
// (kubectl annotate ... <group>/reconcile=disabled) is not seen before the apply, only
// annotations in the manifest are; when an ignore rule is added for a path the manager owned
// before (applied with an earlier manifest), the first apply without it releases the field,
// and the API server removes it if no other manager owns it (as when a field is deleted from
// a manifest).
package ssa
