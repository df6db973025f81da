package ssa

import (
	"strings"

	"gotk.dev/pkg/inventory"
)

// Action is what an apply or prune did to one object.
type Action string

const (
	// Created: the object did not exist and was created (or was recreated after an
	// immutable-field error).
	Created Action = "created"
	// Configured: the object existed and the apply changed it.
	Configured Action = "configured"
	// Unchanged: the apply was a no-op on the server.
	Unchanged Action = "unchanged"
	// Deleted: prune deleted the object.
	Deleted Action = "deleted"
	// Skipped: the object was left alone (ssa: Ignore, IfNotPresent on an existing object,
	// prune exclusions or foreign owner labels).
	Skipped Action = "skipped"
)

// ChangeSetEntry is the outcome for one object.
type ChangeSetEntry struct {
	inventory.ObjMetadata
	// Version is the version of the object's API ("v1" for apps/v1), as in an inventory entry.
	Version string
	Action  Action
}

// String formats the entry as "Kind/namespace/name action".
func (e ChangeSetEntry) String() string { return e.ObjMetadata.String() + " " + string(e.Action) }

// ChangeSet is the outcome of one apply or prune, in the order of the input objects.
type ChangeSet struct {
	Entries []ChangeSetEntry
}

// String formats the change set one entry per line ("Deployment/apps/podinfo configured"),
// the form Flux puts in events and logs.
func (cs *ChangeSet) String() string {
	if cs == nil {
		return ""
	}
	var b strings.Builder
	for i, e := range cs.Entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.String())
	}
	return b.String()
}

// Changes returns the entries that changed something in the cluster (created, configured,
// deleted): what an event about a reconciliation reports.
func (cs *ChangeSet) Changes() *ChangeSet {
	out := &ChangeSet{}
	if cs == nil {
		return out
	}
	for _, e := range cs.Entries {
		switch e.Action {
		case Created, Configured, Deleted:
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

// ToMap returns the actions by object ("Deployment/apps/podinfo" -> "configured"), for
// structured logs.
func (cs *ChangeSet) ToMap() map[string]Action {
	if cs == nil {
		return nil
	}
	m := make(map[string]Action, len(cs.Entries))
	for _, e := range cs.Entries {
		m[e.ObjMetadata.String()] = e.Action
	}
	return m
}

func (cs *ChangeSet) add(entries ...ChangeSetEntry) { cs.Entries = append(cs.Entries, entries...) }

// ObjectError is the failure of one object; the error message starts with the object
// ("Deployment/apps/podinfo: ...") so a user reading the Kustomization's status knows which
// manifest to fix.
type ObjectError struct {
	Object inventory.ObjMetadata
	Err    error
}

func (e *ObjectError) Error() string { return e.Object.String() + ": " + e.Err.Error() }

func (e *ObjectError) Unwrap() error { return e.Err }

func objectError(o inventory.ObjMetadata, err error) error {
	if err == nil {
		return nil
	}
	return &ObjectError{Object: o, Err: err}
}

// FailedObjects lists the objects named by the ObjectErrors in err (joined or wrapped).
func FailedObjects(err error) []inventory.ObjMetadata {
	var out []inventory.ObjMetadata
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *ObjectError:
			out = append(out, e.Object)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}
