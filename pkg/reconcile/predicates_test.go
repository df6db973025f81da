package reconcile_test

import (
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"gotk.dev/internal/testing/testkind"
	"gotk.dev/pkg/reconcile"
)

func TestSpecOrRequestChanged(t *testing.T) {
	base := func() *testkind.TestObject {
		return &testkind.TestObject{
			ObjectMeta: metav1.ObjectMeta{
				Name: "repo", Namespace: "default", Generation: 3, ResourceVersion: "100",
				Annotations: map[string]string{meta.ReconcileRequestAnnotation: "t1"},
			},
			Spec: testkind.TestObjectSpec{URL: "https://git.example.com/repo"},
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*testkind.TestObject)
		want   bool
	}{
		{name: "generation", want: true, mutate: func(o *testkind.TestObject) {
			o.Generation++
			o.Spec.URL = "https://git.example.com/other"
		}},
		{name: "requestedAt changed", want: true, mutate: func(o *testkind.TestObject) {
			o.Annotations[meta.ReconcileRequestAnnotation] = "t2"
		}},
		{name: "requestedAt added", want: true, mutate: func(*testkind.TestObject) {}},
		{name: "status only", want: false, mutate: func(o *testkind.TestObject) {
			o.Status.ObservedGeneration = 3
			o.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue}}
		}},
		{name: "labels only", want: false, mutate: func(o *testkind.TestObject) {
			o.Labels = map[string]string{"team": "a"}
		}},
		{name: "other annotation", want: false, mutate: func(o *testkind.TestObject) {
			o.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
		}},
		{name: "finalizer added", want: false, mutate: func(o *testkind.TestObject) {
			o.Finalizers = []string{reconcile.DefaultFinalizer}
		}},
		{name: "requestedAt removed", want: false, mutate: func(o *testkind.TestObject) {
			delete(o.Annotations, meta.ReconcileRequestAnnotation)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldObj, newObj := base(), base()
			if tc.name == "requestedAt added" {
				oldObj.Annotations = nil
			}
			tc.mutate(newObj)
			newObj.ResourceVersion = "101"
			got := reconcile.SpecOrRequestChanged().Update(event.UpdateEvent{ObjectOld: oldObj, ObjectNew: newObj})
			if got != tc.want {
				t.Errorf("Update = %t, want %t", got, tc.want)
			}
		})
	}

	p := reconcile.SpecOrRequestChanged()
	if !p.Create(event.CreateEvent{Object: base()}) {
		t.Error("Create rejected")
	}
	if !p.Delete(event.DeleteEvent{Object: base()}) {
		t.Error("Delete rejected")
	}
	if p.Update(event.UpdateEvent{ObjectNew: base()}) {
		t.Error("Update without the old object passed")
	}
}
