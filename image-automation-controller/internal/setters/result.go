// Package setters rewrites image references in YAML files, the "Setters" update strategy of
// ImageUpdateAutomation. A field is marked for an ImagePolicy with a line comment:
//
//	image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}
//	repository: ghcr.io/org/app  # {"$imagepolicy": "flux-system:app:name"}
//	tag: 1.0.0                   # {"$imagepolicy": "flux-system:app:tag"}
//	digest: sha256:...           # {"$imagepolicy": "flux-system:app:digest"}
//
// The plain marker sets the full reference (name:tag, or name:tag@digest when the policy
// reflects a digest); the :name, :tag and :digest variants set that part only.
//
// Only the marked scalars change: the files are parsed with kyaml (go.yaml.in/yaml/v3) to find
// the marked values and their exact byte positions, and the new values are spliced into the
// original bytes. Comments, ordering, quoting, indentation, blank lines and document
// separators are never re-serialised. A file that does not parse is skipped and reported.
package setters

import "slices"

// Result is the change set, shaped like upstream Flux's commit message template data
// (.Changed): file -> object -> changes.
type Result struct {
	// FileChanges maps a file path (slash-separated, relative to the updated directory) to the
	// changes made in it.
	FileChanges map[string]ObjectChanges
}

// ObjectChanges maps an object to the changes made to it.
type ObjectChanges map[ObjectIdentifier][]Change

// ObjectIdentifier identifies the YAML document a change was made in. Documents that are not
// Kubernetes objects (e.g. Helm values files) leave the fields empty.
type ObjectIdentifier struct {
	Name, Namespace, APIVersion, Kind string
}

// Change is one marked field that got a new value.
type Change struct {
	OldValue string
	NewValue string
	// Setter is the marker's value, e.g. "flux-system:app" or "flux-system:app:tag".
	Setter string
}

// Changes returns every change, in file order then position order.
func (r Result) Changes() []Change {
	var out []Change
	for _, file := range r.files() {
		for _, id := range sortedObjects(r.FileChanges[file]) {
			out = append(out, r.FileChanges[file][id]...)
		}
	}
	return out
}

// Objects returns the changes per object, whichever file they are in.
func (r Result) Objects() ObjectChanges {
	out := ObjectChanges{}
	for _, file := range r.files() {
		for id, changes := range r.FileChanges[file] {
			out[id] = append(out[id], changes...)
		}
	}
	return out
}

// Files returns the changed files in lexical order.
func (r Result) Files() []string { return r.files() }

func (r Result) files() []string {
	files := make([]string, 0, len(r.FileChanges))
	for f := range r.FileChanges {
		files = append(files, f)
	}
	slices.Sort(files)
	return files
}

func sortedObjects(oc ObjectChanges) []ObjectIdentifier {
	ids := make([]ObjectIdentifier, 0, len(oc))
	for id := range oc {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ObjectIdentifier) int {
		for _, p := range [][2]string{{a.APIVersion, b.APIVersion}, {a.Kind, b.Kind}, {a.Namespace, b.Namespace}, {a.Name, b.Name}} {
			if p[0] != p[1] {
				if p[0] < p[1] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	return ids
}

// add records a change.
func (r *Result) add(file string, id ObjectIdentifier, c Change) {
	if r.FileChanges == nil {
		r.FileChanges = map[string]ObjectChanges{}
	}
	if r.FileChanges[file] == nil {
		r.FileChanges[file] = ObjectChanges{}
	}
	r.FileChanges[file][id] = append(r.FileChanges[file][id], c)
}
