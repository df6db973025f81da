package reconcile_test

import (
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

func TestSpecOrRequestChanged(t *testing.T) {
	base := func() *sourcev1.GitRepository {
		return &sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{
				Name: "repo", Namespace: "default", Generation: 3, ResourceVersion: "100",
				Annotations: map[string]string{meta.ReconcileRequestAnnotation: "t1"},
			},
			Spec: sourcev1.GitRepositorySpec{URL: "https://git.example.com/repo"},
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*sourcev1.GitRepository)
		want   bool
	}{
		{name: "generation", want: true, mutate: func(o *sourcev1.GitRepository) {
			o.Generation++
			o.Spec.URL = "https://git.example.com/other"
		}},
		{name: "requestedAt changed", want: true, mutate: func(o *sourcev1.GitRepository) {
			o.Annotations[meta.ReconcileRequestAnnotation] = "t2"
		}},
		{name: "requestedAt added", want: true, mutate: func(*sourcev1.GitRepository) {}},
		{name: "status only", want: false, mutate: func(o *sourcev1.GitRepository) {
			o.Status.ObservedGeneration = 3
			o.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue}}
		}},
		{name: "labels only", want: false, mutate: func(o *sourcev1.GitRepository) {
			o.Labels = map[string]string{"team": "a"}
		}},
		{name: "other annotation", want: false, mutate: func(o *sourcev1.GitRepository) {
			o.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
		}},
		{name: "finalizer added", want: false, mutate: func(o *sourcev1.GitRepository) {
			o.Finalizers = []string{reconcile.Finalizer}
		}},
		{name: "requestedAt removed", want: false, mutate: func(o *sourcev1.GitRepository) {
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
