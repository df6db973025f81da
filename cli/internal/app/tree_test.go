package app

import (
	"bytes"
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestPrintTree(t *testing.T) {
	ks := schema.GroupKind{Group: "kustomize.toolkit.fluxcd.io", Kind: "Kustomization"}
	leaf := func(ns, name, kind string) objectTree {
		return objectTree{Resource: treeObject{Namespace: ns, Name: name, GroupKind: schema.GroupKind{Kind: kind}}}
	}
	tree := objectTree{Resource: treeObject{Namespace: "flux-system", Name: "flux-system", GroupKind: ks}, Children: []objectTree{
		leaf("", "apps", "Namespace"),
		{Resource: treeObject{Namespace: "flux-system", Name: "apps", GroupKind: ks}, Children: []objectTree{
			leaf("apps", "podinfo", "Deployment"),
			{Resource: treeObject{Namespace: "flux-system", Name: "nested", GroupKind: ks}, Children: []objectTree{leaf("apps", "cm", "ConfigMap")}},
		}},
		leaf("apps", "last", "Service"),
	}}
	var b bytes.Buffer
	if err := printTree(&b, tree); err != nil {
		t.Fatal(err)
	}
	want := `Kustomization/flux-system/flux-system
├── Namespace/apps
├── Kustomization/flux-system/apps
│   ├── Deployment/apps/podinfo
│   └── Kustomization/flux-system/nested
│       └── ConfigMap/apps/cm
└── Service/apps/last
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	// The JSON form uses upstream's keys.
	j, err := json.Marshal(objectTree{Resource: treeObject{Name: "apps", GroupKind: schema.GroupKind{Kind: "Namespace"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"resource":{"Namespace":"","Name":"apps","GroupKind":{"Group":"","Kind":"Namespace"}}}`; string(j) != want {
		t.Fatalf("json %s, want %s", j, want)
	}
}
