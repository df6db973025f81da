package inventory

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// TestIDAndString: the ids are those upstream Flux writes (through sigs.k8s.io/cli-utils),
// including the double underscore for colons in RBAC names.
func TestIDAndString(t *testing.T) {
	tests := []struct {
		name   string
		meta   ObjMetadata
		id     string
		string string
	}{
		{"namespaced apps", ObjMetadata{"apps", "podinfo", "apps", "Deployment"}, "apps_podinfo_apps_Deployment", "Deployment/apps/podinfo"},
		{"namespaced core", ObjMetadata{"apps", "podinfo", "", "Service"}, "apps_podinfo__Service", "Service/apps/podinfo"},
		{"cluster-scoped core", ObjMetadata{"", "apps", "", "Namespace"}, "_apps__Namespace", "Namespace/apps"},
		{"cluster-scoped group", ObjMetadata{"", "foos.example.com", "apiextensions.k8s.io", "CustomResourceDefinition"},
			"_foos.example.com_apiextensions.k8s.io_CustomResourceDefinition", "CustomResourceDefinition/foos.example.com"},
		{"rbac colon", ObjMetadata{"", "system:controller:flux", "rbac.authorization.k8s.io", "ClusterRole"},
			"_system__controller__flux_rbac.authorization.k8s.io_ClusterRole", "ClusterRole/system:controller:flux"},
		{"colon outside rbac kept", ObjMetadata{"ns", "a:b", "example.com", "Thing"}, "ns_a:b_example.com_Thing", "Thing/ns/a:b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.meta.ID(); got != tt.id {
				t.Errorf("ID() = %q, want %q", got, tt.id)
			}
			if got := tt.meta.String(); got != tt.string {
				t.Errorf("String() = %q, want %q", got, tt.string)
			}
			back, err := Parse(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if back != tt.meta {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.id, back, tt.meta)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, id := range []string{"", "nounderscore", "a_b", "ns_name_Kind", "ns_a_b_g_Kind", "ns__g_Kind", "ns_name_g_"} {
		if o, err := Parse(id); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", id, o)
		}
	}
}

func TestNew(t *testing.T) {
	objs := []*unstructured.Unstructured{
		obj("v1", "Namespace", "", "apps"),
		obj("apps/v1", "Deployment", "apps", "podinfo"),
		obj("v1", "Service", "apps", "podinfo"),
		obj("apps/v1", "Deployment", "apps", "podinfo"), // duplicate
		obj("autoscaling/v2", "HorizontalPodAutoscaler", "apps", "podinfo"),
	}
	got := New(objs)
	want := &Inventory{Entries: []Entry{
		{ID: "_apps__Namespace", Version: "v1"},
		{ID: "apps_podinfo_apps_Deployment", Version: "v1"},
		{ID: "apps_podinfo__Service", Version: "v1"},
		{ID: "apps_podinfo_autoscaling_HorizontalPodAutoscaler", Version: "v2"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("New() = %+v\nwant %+v", got, want)
	}
	if empty := New(nil); empty.Entries == nil || len(empty.Entries) != 0 {
		t.Errorf("New(nil) = %+v, want empty non-nil entries (the CRD requires entries)", empty)
	}
}

func TestDiff(t *testing.T) {
	inv := func(ids ...string) *Inventory {
		out := &Inventory{}
		for _, id := range ids {
			out.Entries = append(out.Entries, Entry{ID: id, Version: "v1"})
		}
		return out
	}
	tests := []struct {
		name     string
		old, new *Inventory
		want     []ObjMetadata
	}{
		{"nil old", nil, inv("a_b__ConfigMap"), nil},
		{"nil new prunes all", inv("a_b__ConfigMap", "_a__Namespace"), nil,
			[]ObjMetadata{{"a", "b", "", "ConfigMap"}, {"", "a", "", "Namespace"}}},
		{"same", inv("a_b__ConfigMap"), inv("a_b__ConfigMap"), nil},
		{"removed one", inv("a_b__ConfigMap", "a_c_apps_Deployment", "a_d__Secret"), inv("a_b__ConfigMap", "a_e__Secret"),
			[]ObjMetadata{{"a", "c", "apps", "Deployment"}, {"a", "d", "", "Secret"}}},
		{"unparsable and duplicate entries", inv("garbage", "a_c_apps_Deployment", "a_c_apps_Deployment"), inv(),
			[]ObjMetadata{{"a", "c", "apps", "Deployment"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.old, tt.new); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestContainsAndIDs(t *testing.T) {
	inv := New([]*unstructured.Unstructured{obj("apps/v1", "Deployment", "apps", "podinfo")})
	if !Contains(inv, ObjMetadata{"apps", "podinfo", "apps", "Deployment"}) {
		t.Error("Contains: want true for an applied object")
	}
	if Contains(inv, ObjMetadata{"apps", "podinfo", "", "Service"}) || Contains(nil, ObjMetadata{}) {
		t.Error("Contains: want false for an object not in the inventory")
	}
	if _, ok := IDs(inv)["apps_podinfo_apps_Deployment"]; !ok || len(IDs(inv)) != 1 {
		t.Errorf("IDs() = %v", IDs(inv))
	}
}
