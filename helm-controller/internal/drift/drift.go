// Package drift detects and corrects differences between the manifest of a Helm release
// (as kept in the Helm storage) and the cluster: an object deleted, or changed by
// `kubectl edit`, by another controller or by hand. Detection is a server-side dry-run
// apply of each manifest object compared with the live object (gotk.dev/pkg/ssa Diff);
// correction server-side applies the drifted objects. Ignore rules (JSON pointers with an
// optional target selector) and the helm.toolkit.fluxcd.io/driftDetection: disabled label
// or annotation exclude fields and objects.
package drift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/pkg/ssa"
)

// Detector detects and corrects drift through one server-side apply field manager.
type Detector struct {
	mgr *ssa.Manager
}

// NewDetector returns a Detector talking to the cluster through c (which may impersonate
// a service account or point at a remote cluster), applying as fieldManager (the field
// manager of the controller's Helm actions, see kube.FieldManager).
func NewDetector(c client.Client, fieldManager string) *Detector {
	return &Detector{mgr: ssa.NewManager(c, ssa.Owner{Field: fieldManager, Group: v2.GroupName})}
}

// Change is one drifted object.
type Change struct {
	// Object is "Kind/namespace/name" (no namespace for cluster-scoped kinds).
	Object string
	// Action is what applying the manifest would do: ssa.Created (the object is gone)
	// or ssa.Configured (it was changed).
	Action ssa.Action
	// Desired is the manifest object, ready to be applied.
	Desired *unstructured.Unstructured
}

// Report is the outcome of Detect.
type Report struct {
	Changes []Change
}

// HasChanges tells whether anything drifted.
func (r *Report) HasChanges() bool { return r != nil && len(r.Changes) > 0 }

// Summary describes the changes in one line, e.g.
// "Deployment/apps/podinfo changed, ConfigMap/apps/podinfo-cfg deleted".
func (r *Report) Summary() string {
	if !r.HasChanges() {
		return "no drift"
	}
	parts := make([]string, 0, len(r.Changes))
	for _, c := range r.Changes {
		what := "changed"
		if c.Action == ssa.Created {
			what = "deleted"
		}
		parts = append(parts, c.Object+" "+what)
	}
	return strings.Join(parts, ", ")
}

// Detect compares the objects of manifest (a release manifest: YAML documents) with the
// cluster. Objects without a namespace are taken to be in namespace (the release's) when
// their kind is namespaced. spec.ignore rules and the driftDetection: disabled marker are
// honoured. Per-object errors are joined; the report still lists what could be compared.
func (d *Detector) Detect(ctx context.Context, manifest, namespace string, spec v2.DriftDetection) (*Report, error) {
	objs, err := Objects(manifest, namespace)
	if err != nil {
		return nil, err
	}
	var checked []*unstructured.Unstructured
	for _, o := range objs {
		if !excluded(o) {
			checked = append(checked, o)
		}
	}
	entries, diffErr := d.mgr.Diff(ctx, checked, ssa.ApplyOptions{IgnoreRules: ignoreRules(spec)})
	report := &Report{}
	for i, e := range entries {
		if e.Action != ssa.Created && e.Action != ssa.Configured {
			continue
		}
		report.Changes = append(report.Changes, Change{Object: e.ObjMetadata.String(), Action: e.Action, Desired: checked[i]})
	}
	return report, diffErr
}

// Correct applies the drifted objects of report, recreating deleted ones and reverting
// changed fields (except ignored paths). It returns what the apply did.
func (d *Detector) Correct(ctx context.Context, report *Report, spec v2.DriftDetection) (*ssa.ChangeSet, error) {
	if !report.HasChanges() {
		return &ssa.ChangeSet{}, nil
	}
	objs := make([]*unstructured.Unstructured, 0, len(report.Changes))
	for _, c := range report.Changes {
		objs = append(objs, c.Desired.DeepCopy())
	}
	return d.mgr.ApplyAllStaged(ctx, objs, ssa.ApplyOptions{IgnoreRules: ignoreRules(spec)})
}

func ignoreRules(spec v2.DriftDetection) []ssa.IgnoreRule {
	rules := make([]ssa.IgnoreRule, 0, len(spec.Ignore))
	for _, r := range spec.Ignore {
		rules = append(rules, ssa.IgnoreRule{Paths: r.Paths, Target: r.Target})
	}
	return rules
}

// excluded tells whether o opted out of drift detection.
func excluded(o *unstructured.Unstructured) bool {
	marker := func(m map[string]string) bool {
		return strings.EqualFold(m[v2.DriftDetectionMetadataKey], v2.DriftDetectionDisabledValue)
	}
	return marker(o.GetLabels()) || marker(o.GetAnnotations())
}

// Objects decodes the objects of a release manifest, giving those without a namespace the
// release namespace (cluster-scoped kinds lose it again when applied). Empty documents and
// List kinds' items are handled as kubectl does: lists are flattened.
func Objects(manifest, namespace string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(manifest), 4096)
	var out []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("release manifest document %d: %w", doc, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("release manifest document %d: %w", doc, err)
			}
			for i := range list.Items {
				out = append(out, withNamespace(&list.Items[i], namespace))
			}
			continue
		}
		out = append(out, withNamespace(u, namespace))
	}
}

func withNamespace(u *unstructured.Unstructured, namespace string) *unstructured.Unstructured {
	if u.GetNamespace() == "" {
		u.SetNamespace(namespace)
	}
	return u
}
