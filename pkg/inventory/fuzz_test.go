package inventory

import (
	"strings"
	"testing"
)

// FuzzParse checks Parse against inventories read from the cluster (any string): it never
// panics, what it accepts has the four fields of an id, and formatting a parsed id parses
// back to the same object.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"apps_podinfo_apps_Deployment", "_apps__Namespace", "_system__controller__x_rbac.authorization.k8s.io_ClusterRole",
		"ns_a:b_example.com_Thing", "", "_", "___", "a_b_c_d_e", "ns___g_K",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		o, err := Parse(id)
		if err != nil {
			return
		}
		if strings.Contains(o.Namespace+o.Group+o.Kind, "_") || strings.Contains(o.Name, "_") {
			t.Fatalf("Parse(%q) = %+v: a field holds the separator", id, o)
		}
		back, err := Parse(o.ID())
		if err != nil || back != o {
			t.Fatalf("Parse(%q.ID() = %q) = %+v, %v; want %+v", id, o.ID(), back, err, o)
		}
	})
}
