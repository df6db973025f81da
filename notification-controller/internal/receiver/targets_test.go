package receiver

import (
	"context"
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// cluster is a tiny object store answering Queries the way the controller's lister will.
type cluster []map[string]any

func obj(kind, ns, name string, labels map[string]string, annotations map[string]string) map[string]any {
	l := map[string]any{}
	for k, v := range labels {
		l[k] = v
	}
	a := map[string]any{}
	for k, v := range annotations {
		a[k] = v
	}
	return map[string]any{"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": l, "annotations": a}}
}

func (c cluster) list(_ context.Context, q Query) ([]map[string]any, error) {
	var out []map[string]any
	for _, o := range c {
		m := o["metadata"].(map[string]any)
		if o["kind"] != q.Kind || m["namespace"] != q.Namespace {
			continue
		}
		if q.Name != "" {
			if m["name"] == q.Name {
				return []map[string]any{o}, nil
			}
			continue
		}
		ok := true
		for k, v := range q.MatchLabels {
			ok = ok && m["labels"].(map[string]any)[k] == v
		}
		if ok {
			out = append(out, o)
		}
	}
	if q.Name != "" {
		return nil, errors.New("not found")
	}
	return out, nil
}

func res(kind, name, ns string, labels map[string]string, filter string) apiv1.ReceiverResource {
	return apiv1.ReceiverResource{CrossNamespaceObjectReference: apiv1.CrossNamespaceObjectReference{Kind: kind, Name: name, Namespace: ns, MatchLabels: labels}, Filter: filter}
}

func TestSelect(t *testing.T) {
	c := cluster{
		obj("ImageRepository", "apps", "podinfo", map[string]string{"app": "podinfo"}, map[string]string{"image": "ghcr.io/stefanprodan/podinfo"}),
		obj("ImageRepository", "apps", "frontend", map[string]string{"app": "web"}, map[string]string{"image": "ghcr.io/org/frontend"}),
		obj("ImageRepository", "apps", "backend", map[string]string{"app": "web"}, nil),
		obj("ImageRepository", "other", "podinfo", map[string]string{"app": "podinfo"}, nil),
	}
	payload := []byte(`{"repository":{"repo_name":"org/frontend"}}`)
	tests := []struct {
		name      string
		resources []apiv1.ReceiverResource
		filter    string
		noXNS     bool
		want      string
		wantErr   bool
	}{
		{name: "by name", resources: []apiv1.ReceiverResource{res("ImageRepository", "podinfo", "", nil, "")}, want: "[apps/podinfo]"},
		{name: "by labels", resources: []apiv1.ReceiverResource{res("ImageRepository", "*", "", map[string]string{"app": "web"}, "")}, want: "[apps/frontend apps/backend]"},
		{name: "all of a kind", resources: []apiv1.ReceiverResource{res("ImageRepository", "*", "", nil, "")}, want: "[apps/podinfo apps/frontend apps/backend]"},
		{name: "resourceFilter on res and req", resources: []apiv1.ReceiverResource{res("ImageRepository", "*", "", nil, "")},
			filter: `has(res.metadata.annotations.image) && res.metadata.annotations.image.endsWith(req.repository.repo_name)`, want: "[apps/frontend]"},
		{name: "per-resource filter", resources: []apiv1.ReceiverResource{res("ImageRepository", "*", "", nil, `res.metadata.name.startsWith("b")`)}, want: "[apps/backend]"},
		{name: "cross-namespace allowed", resources: []apiv1.ReceiverResource{res("ImageRepository", "podinfo", "other", nil, "")}, want: "[other/podinfo]"},
		{name: "cross-namespace denied", resources: []apiv1.ReceiverResource{res("ImageRepository", "podinfo", "other", nil, "")}, noXNS: true, wantErr: true},
		{name: "labels need the wildcard", resources: []apiv1.ReceiverResource{res("ImageRepository", "podinfo", "", map[string]string{"a": "b"}, "")}, wantErr: true},
		{name: "missing object", resources: []apiv1.ReceiverResource{res("ImageRepository", "ghost", "", nil, "")}, wantErr: true},
		{name: "filter not a bool", resources: []apiv1.ReceiverResource{res("ImageRepository", "*", "", nil, "")}, filter: `res.metadata.name`, wantErr: true},
		{name: "filter does not compile", resources: []apiv1.ReceiverResource{res("ImageRepository", "*", "", nil, "")}, filter: `res.metadata.name ==`, wantErr: true},
		{name: "duplicates listed once", resources: []apiv1.ReceiverResource{res("ImageRepository", "podinfo", "", nil, ""), res("ImageRepository", "*", "", map[string]string{"app": "podinfo"}, "")}, want: "[apps/podinfo]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := &apiv1.Receiver{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "apps"},
				Spec: apiv1.ReceiverSpec{Type: "generic", Resources: tt.resources, ResourceFilter: tt.filter}}
			s, err := NewSelector(rcv, tt.noXNS)
			var got []Target
			if err == nil {
				got, err = s.Select(context.Background(), c.list, payload)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			var names []string
			for _, t := range got {
				names = append(names, t.Namespace+"/"+t.Name)
			}
			if s := fmt.Sprint(names); s != tt.want {
				t.Errorf("Select = %s, want %s", s, tt.want)
			}
			for _, tg := range got {
				if tg.Kind != "ImageRepository" || tg.APIVersion != "image.toolkit.fluxcd.io/v1" {
					t.Errorf("target %+v lacks its kind or apiVersion", tg)
				}
			}
		})
	}
}
