package ssa

import (
	"errors"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"gotk.dev/pkg/inventory"
)

// response builds an apply response: created at created, our Apply entry at ours (zero:
// none), plus an entry of another manager when other is set.
func response(uid, rv string, created, ours time.Time, other string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetUID(types.UID(uid))
	u.SetResourceVersion(rv)
	u.SetCreationTimestamp(metav1.NewTime(created))
	var mf []any
	if !ours.IsZero() {
		mf = append(mf, map[string]any{"manager": testOwner.Field, "operation": "Apply", "time": ours.UTC().Format(time.RFC3339)})
	}
	if other != "" {
		mf = append(mf, map[string]any{"manager": other, "operation": "Update", "time": created.UTC().Format(time.RFC3339)})
	}
	_ = unstructured.SetNestedSlice(u.Object, mf, "metadata", "managedFields")
	return u
}

func TestClassify(t *testing.T) {
	start := time.Date(2025, 1, 1, 12, 0, 10, 400_000_000, time.UTC) // 12:00:10.4
	sameSecond := start.Truncate(time.Second)                        // 12:00:10
	before := sameSecond.Add(-time.Second)                           // 12:00:09, before start-1s
	tests := []struct {
		name       string
		remembered string // resourceVersion remembered for uid "u", "" = none
		inPrevious bool
		resp       *unstructured.Unstructured
		want       Action
	}{
		{"new object", "", false, response("u", "5", sameSecond, sameSecond, ""), Created},
		{"created just after start", "", false, response("u", "5", sameSecond.Add(time.Second), sameSecond.Add(time.Second), ""), Created},
		{"in the previous inventory", "", true, response("u", "5", sameSecond, sameSecond, ""), Configured},
		{"created by someone else this second", "", false, response("u", "5", sameSecond, sameSecond, "kubectl-create"), Configured},
		{"remembered, same resourceVersion", "5", true, response("u", "5", before, sameSecond, ""), Unchanged},
		{"remembered, others changed it", "4", true, response("u", "5", before, before, ""), Unchanged},
		{"remembered, we changed it", "4", true, response("u", "5", before, sameSecond, ""), Configured},
		{"no memory, our entry moved", "", true, response("u", "5", before, sameSecond, ""), Configured},
		{"no memory, our entry old", "", true, response("u", "5", before, before, ""), Unchanged},
		{"no memory, no entry of ours", "", true, response("u", "5", before, time.Time{}, "other"), Unchanged},
		{"created long ago, not in inventory", "", false, response("u", "5", before, before, ""), Unchanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(nil, testOwner)
			if tt.remembered != "" {
				m.memory.put("u", tt.remembered)
			}
			if got := m.classify(tt.resp, start, tt.inPrevious); got != tt.want {
				t.Errorf("classify = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMemoryIsBounded(t *testing.T) {
	m := &memory{entries: map[types.UID]string{}}
	for i := range memoryLimit + 10 {
		m.put(types.UID(fmt.Sprint(i)), "1")
	}
	if n := len(m.entries); n > memoryLimit || n < memoryLimit/2 {
		t.Errorf("%d entries remembered, want at most %d", n, memoryLimit)
	}
	m.put("", "1")
	if _, ok := m.get(""); ok {
		t.Error("objects without a UID must not be remembered")
	}
	m.forget(types.UID(fmt.Sprint(memoryLimit + 9)))
	if _, ok := m.get(types.UID(fmt.Sprint(memoryLimit + 9))); ok {
		t.Error("forget did not forget")
	}
}

func TestIsImmutableError(t *testing.T) {
	gk := schema.GroupKind{Kind: "ConfigMap"}
	invalid := func(msg string) error {
		return apierrors.NewInvalid(gk, "x", field.ErrorList{field.Invalid(field.NewPath("spec"), "v", msg)})
	}
	tests := []struct {
		err  error
		want bool
	}{
		{invalid("field is immutable"), true},
		{invalid("Value is immutable"), true},
		{invalid("may not change once set"), true},
		{apierrors.NewInvalid(gk, "x", field.ErrorList{field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas' are forbidden")}), true},
		{invalid("must be no more than 65535"), false},
		{apierrors.NewBadRequest("field is immutable"), false},
		{errors.New("field is immutable"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := isImmutableError(tt.err); got != tt.want {
			t.Errorf("isImmutableError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestChangeSet(t *testing.T) {
	cs := &ChangeSet{}
	cs.add(
		ChangeSetEntry{ObjMetadata: inventory.ObjMetadata{Name: "apps", Kind: "Namespace"}, Version: "v1", Action: Created},
		ChangeSetEntry{ObjMetadata: inventory.ObjMetadata{Namespace: "apps", Name: "podinfo", Group: "apps", Kind: "Deployment"}, Version: "v1", Action: Configured},
		ChangeSetEntry{ObjMetadata: inventory.ObjMetadata{Namespace: "apps", Name: "podinfo", Kind: "Service"}, Version: "v1", Action: Unchanged},
		ChangeSetEntry{ObjMetadata: inventory.ObjMetadata{Namespace: "apps", Name: "old", Kind: "ConfigMap"}, Version: "v1", Action: Deleted},
	)
	want := "Namespace/apps created\nDeployment/apps/podinfo configured\nService/apps/podinfo unchanged\nConfigMap/apps/old deleted"
	if got := cs.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	if got := cs.Changes().String(); got != "Namespace/apps created\nDeployment/apps/podinfo configured\nConfigMap/apps/old deleted" {
		t.Errorf("Changes() =\n%s", got)
	}
	if got := cs.ToMap()["Service/apps/podinfo"]; got != Unchanged {
		t.Errorf("ToMap()[Service/apps/podinfo] = %q", got)
	}
	var nilSet *ChangeSet
	if nilSet.String() != "" || len(nilSet.Changes().Entries) != 0 || nilSet.ToMap() != nil {
		t.Error("nil change set")
	}
	o := inventory.ObjMetadata{Namespace: "apps", Name: "podinfo", Group: "apps", Kind: "Deployment"}
	err := fmt.Errorf("apply: %w", errors.Join(objectError(o, errors.New("boom")), objectError(inventory.ObjMetadata{Name: "a", Kind: "Namespace"}, errors.New("bad"))))
	if got := FailedObjects(err); len(got) != 2 || got[0] != o {
		t.Errorf("FailedObjects = %v", got)
	}
	if got := err.Error(); got != "apply: Deployment/apps/podinfo: boom\nNamespace/a: bad" {
		t.Errorf("error = %q", got)
	}
}
