package app

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels the Flux appliers put on every object they manage.
const (
	kustomizeNameLabel      = "kustomize.toolkit.fluxcd.io/name"
	kustomizeNamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"
	helmNameLabel           = "helm.toolkit.fluxcd.io/name"
	helmNamespaceLabel      = "helm.toolkit.fluxcd.io/namespace"
)

// tracer renders upstream flux trace's report: one section per object on the way from the
// source to the traced object, separated by "---".
type tracer struct {
	client client.Client
	b      strings.Builder
}

// field writes "Label:" padded to 16 columns and the value, upstream's layout.
func (t *tracer) field(label, value string) {
	fmt.Fprintf(&t.b, "%-16s%s\n", label+":", value)
}

func (t *tracer) trace(ctx context.Context, obj *unstructured.Unstructured) (string, error) {
	labels := obj.GetLabels()
	var managerKind, managerName, managerNS string
	switch {
	case labels[helmNameLabel] != "" && labels[helmNamespaceLabel] != "":
		managerKind, managerName, managerNS = "HelmRelease", labels[helmNameLabel], labels[helmNamespaceLabel]
	case labels[kustomizeNameLabel] != "" && labels[kustomizeNamespaceLabel] != "":
		managerKind, managerName, managerNS = "Kustomization", labels[kustomizeNameLabel], labels[kustomizeNamespaceLabel]
	default:
		return "", fmt.Errorf("object %s/%s not managed by Flux: it has neither the %s nor the %s label",
			obj.GetKind(), obj.GetName(), kustomizeNameLabel, helmNameLabel)
	}
	t.field("Object", obj.GetKind()+"/"+obj.GetName())
	if obj.GetNamespace() != "" {
		t.field("Namespace", obj.GetNamespace())
	}
	t.field("Status", "Managed by Flux")
	manager, err := t.get(ctx, managerKind, managerNS, managerName)
	if err != nil {
		return "", err
	}
	if manager == nil {
		t.missing(managerKind, managerNS, managerName)
		return t.b.String(), nil
	}
	if managerKind == "Kustomization" {
		t.kustomization(manager)
		return t.done(t.source(ctx, manager, "spec", "sourceRef"))
	}
	t.helmRelease(manager)
	if _, ok, _ := unstructured.NestedMap(manager.Object, "spec", "chartRef"); ok {
		return t.done(t.source(ctx, manager, "spec", "chartRef"))
	}
	hc, _, _ := unstructured.NestedString(manager.Object, "status", "helmChart")
	hcNS, hcName, ok := strings.Cut(hc, "/")
	if !ok {
		return t.b.String(), nil
	}
	chart, err := t.get(ctx, "HelmChart", hcNS, hcName)
	if err != nil {
		return "", err
	}
	if chart == nil {
		t.missing("HelmChart", hcNS, hcName)
		return t.b.String(), nil
	}
	t.sourceSection(chart)
	return t.done(t.source(ctx, chart, "spec", "sourceRef"))
}

// done returns the report once the last section is written (or the error that stopped it).
func (t *tracer) done(err error) (string, error) {
	if err != nil {
		return "", err
	}
	return t.b.String(), nil
}

// get reads a Flux object; nil when it does not exist.
func (t *tracer) get(ctx context.Context, kind, namespace, name string) (*unstructured.Unstructured, error) {
	k, err := LookupKind("", kind)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	if err := t.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("getting %s %s/%s: %w", kind, namespace, name, err)
	}
	return u, nil
}

// source adds the section of the object the reference at path of obj points at.
func (t *tracer) source(ctx context.Context, obj *unstructured.Unstructured, path ...string) error {
	ref, _, _ := unstructured.NestedStringMap(obj.Object, path...)
	if ref["name"] == "" || ref["kind"] == "" {
		return nil
	}
	ns := cmp.Or(ref["namespace"], obj.GetNamespace())
	src, err := t.get(ctx, ref["kind"], ns, ref["name"])
	if err != nil {
		return err
	}
	if src == nil {
		t.missing(ref["kind"], ns, ref["name"])
		return nil
	}
	t.sourceSection(src)
	return nil
}

func (t *tracer) missing(kind, namespace, name string) {
	t.b.WriteString("---\n")
	t.field(kind, name)
	t.field("Namespace", namespace)
	t.field("Status", "Not found")
}

func (t *tracer) header(obj *unstructured.Unstructured) {
	t.b.WriteString("---\n")
	t.field(obj.GetKind(), obj.GetName())
	t.field("Namespace", obj.GetNamespace())
}

// nestedStr reads a string field of obj ("" when absent).
func nestedStr(obj *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(obj.Object, path...)
	return s
}

func (t *tracer) kustomization(ks *unstructured.Unstructured) {
	t.header(ks)
	if tn := nestedStr(ks, "spec", "targetNamespace"); tn != "" {
		t.field("Target", tn)
	}
	t.field("Path", nestedStr(ks, "spec", "path"))
	t.field("Revision", nestedStr(ks, "status", "lastAppliedRevision"))
	t.readiness(ks)
}

func (t *tracer) helmRelease(hr *unstructured.Unstructured) {
	t.header(hr)
	if tn := nestedStr(hr, "spec", "targetNamespace"); tn != "" {
		t.field("Target", tn)
	}
	revision := nestedStr(hr, "status", "lastAttemptedRevision")
	if history, _, _ := unstructured.NestedSlice(hr.Object, "status", "history"); len(history) > 0 {
		if h, ok := history[0].(map[string]any); ok {
			if v, _ := h["chartVersion"].(string); v != "" {
				revision = v
			}
		}
	}
	t.field("Revision", revision)
	t.readiness(hr)
}

// sourceSection describes a source the way upstream does for its kind: where it fetches
// from, which reference it follows and the revision of its artifact.
func (t *tracer) sourceSection(src *unstructured.Unstructured) {
	t.header(src)
	switch src.GetKind() {
	case "GitRepository":
		t.field("URL", nestedStr(src, "spec", "url"))
		switch {
		case nestedStr(src, "spec", "ref", "tag") != "":
			t.field("Tag", nestedStr(src, "spec", "ref", "tag"))
		case nestedStr(src, "spec", "ref", "semver") != "":
			t.field("Tag", nestedStr(src, "spec", "ref", "semver"))
		case nestedStr(src, "spec", "ref", "commit") != "":
			t.field("Commit", nestedStr(src, "spec", "ref", "commit"))
		case nestedStr(src, "spec", "ref", "name") != "":
			t.field("Ref", nestedStr(src, "spec", "ref", "name"))
		case nestedStr(src, "spec", "ref", "branch") != "":
			t.field("Branch", nestedStr(src, "spec", "ref", "branch"))
		}
	case "OCIRepository":
		t.field("URL", nestedStr(src, "spec", "url"))
		switch {
		case nestedStr(src, "spec", "ref", "digest") != "":
			t.field("Digest", nestedStr(src, "spec", "ref", "digest"))
		case nestedStr(src, "spec", "ref", "semver") != "":
			t.field("Tag", nestedStr(src, "spec", "ref", "semver"))
		case nestedStr(src, "spec", "ref", "tag") != "":
			t.field("Tag", nestedStr(src, "spec", "ref", "tag"))
		}
	case "Bucket":
		scheme := "https://"
		if insecure, _, _ := unstructured.NestedBool(src.Object, "spec", "insecure"); insecure {
			scheme = "http://"
		}
		t.field("URL", scheme+nestedStr(src, "spec", "endpoint"))
		t.field("Bucket name", nestedStr(src, "spec", "bucketName"))
	case "HelmRepository":
		t.field("URL", nestedStr(src, "spec", "url"))
	case "HelmChart":
		t.field("Chart", nestedStr(src, "spec", "chart"))
		t.field("Version", nestedStr(src, "spec", "version"))
	}
	t.field("Revision", nestedStr(src, "status", "artifact", "revision"))
	t.readiness(src)
}

// readiness writes the Status and Message lines from the Ready condition.
func (t *tracer) readiness(obj *unstructured.Unstructured) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		var when metav1.Time
		if s, _ := m["lastTransitionTime"].(string); s != "" {
			_ = when.UnmarshalQueryParameter(s)
		}
		msg, _ := m["message"].(string)
		if m["status"] == string(metav1.ConditionFalse) {
			t.field("Status", "Last reconciliation failed at "+when.String())
		} else {
			t.field("Status", "Last reconciled at "+when.String())
		}
		t.field("Message", msg)
		return
	}
	t.field("Status", "Unknown")
}
