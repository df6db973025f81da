package ui

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/health"
	"gotk.dev/pkg/inventory"
)

// maxTreeNodes bounds one tree (a Kustomization of Kustomizations of thousands of objects):
// the rest is cut, and the tree says so.
const maxTreeNodes = 3000

// TreeNode is one object of a resource tree with its health.
type TreeNode struct {
	Group     string      `json:"group,omitempty"`
	Version   string      `json:"version"`
	Kind      string      `json:"kind"`
	Namespace string      `json:"namespace,omitempty"`
	Name      string      `json:"name"`
	Health    string      `json:"health"`
	Message   string      `json:"message,omitempty"`
	Children  []*TreeNode `json:"children,omitempty"`
}

// Tree is the answer of the tree endpoint.
type Tree struct {
	Root      *TreeNode `json:"root"`
	Nodes     int       `json:"nodes"`
	Truncated bool      `json:"truncated,omitempty"`
}

// treeWalker reads a tree with the viewer's client: inventories of Kustomizations and
// HelmReleases (nested ones expanded), Deployments to their ReplicaSets and Pods,
// StatefulSets, DaemonSets and Jobs to their Pods.
type treeWalker struct {
	c       client.Client
	health  *health.Evaluator
	visited map[string]bool
	nodes   int
}

// objectTree answers GET /api/objects/{kind}/{namespace}/{name}/tree.
func (s *Server) objectTree(w http.ResponseWriter, r *http.Request) {
	k, u, _, ok := s.lookup(w, r)
	if !ok {
		return
	}
	cl, err := s.access.Clients(viewerOf(r))
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	ev, err := health.NewEvaluator(nil)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	t := &treeWalker{c: cl.Client, health: ev, visited: map[string]bool{}}
	root := &TreeNode{Group: k.GroupVersion.Group, Version: k.GroupVersion.Version, Kind: k.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
	t.fill(r.Context(), root, u)
	writeJSON(w, http.StatusOK, Tree{Root: root, Nodes: t.nodes, Truncated: t.nodes >= maxTreeNodes})
}

// fill sets n's health from obj and adds its children.
func (t *treeWalker) fill(ctx context.Context, n *TreeNode, obj *unstructured.Unstructured) {
	t.nodes++
	id := n.Kind + "/" + n.Namespace + "/" + n.Name + "/" + n.Group
	if t.visited[id] {
		return
	}
	t.visited[id] = true
	res, _ := t.health.Evaluate(obj)
	n.Health, n.Message = string(res.Status), res.Message
	switch {
	case (n.Group == "kustomize.toolkit.fluxcd.io" && n.Kind == "Kustomization") || (n.Group == "helm.toolkit.fluxcd.io" && n.Kind == "HelmRelease"):
		t.inventory(ctx, n, obj)
	case n.Group == "apps" && n.Kind == "Deployment":
		t.owned(ctx, n, obj, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"})
	case n.Group == "apps" && n.Kind == "ReplicaSet", n.Group == "apps" && n.Kind == "StatefulSet",
		n.Group == "apps" && n.Kind == "DaemonSet", n.Group == "batch" && n.Kind == "Job":
		t.owned(ctx, n, obj, schema.GroupVersionKind{Version: "v1", Kind: "Pod"})
	}
}

// inventory adds the objects of status.inventory, each read with the viewer's rights: one
// the viewer may not read shows as Forbidden, one that is gone as NotFound.
func (t *treeWalker) inventory(ctx context.Context, n *TreeNode, obj *unstructured.Unstructured) {
	entries, _, _ := unstructured.NestedSlice(obj.Object, "status", "inventory", "entries")
	for _, e := range entries {
		if t.nodes >= maxTreeNodes {
			return
		}
		m, _ := e.(map[string]any)
		id, _ := m["id"].(string)
		version, _ := m["v"].(string)
		om, err := inventory.Parse(id)
		if err != nil {
			continue
		}
		child := &TreeNode{Group: om.Group, Version: version, Kind: om.Kind, Namespace: om.Namespace, Name: om.Name}
		n.Children = append(n.Children, child)
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(schema.GroupVersionKind{Group: om.Group, Version: version, Kind: om.Kind})
		if err := t.c.Get(ctx, client.ObjectKey{Namespace: om.Namespace, Name: om.Name}, live); err != nil {
			t.nodes++
			child.Health, child.Message = readError(err)
			continue
		}
		t.fill(ctx, child, live)
	}
}

// owned adds the objects of kind gvk that obj controls (ownerReferences), found with obj's
// selector.
func (t *treeWalker) owned(ctx context.Context, n *TreeNode, obj *unstructured.Unstructured, gvk schema.GroupVersionKind) {
	sel, ok, _ := unstructured.NestedMap(obj.Object, "spec", "selector")
	if !ok {
		return
	}
	ls := &metav1.LabelSelector{}
	if ml, ok := sel["matchLabels"].(map[string]any); ok {
		ls.MatchLabels = map[string]string{}
		for k, v := range ml {
			ls.MatchLabels[k], _ = v.(string)
		}
	}
	selector, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || selector.Empty() {
		return
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := t.c.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		health, msg := readError(err)
		n.Children = append(n.Children, &TreeNode{Version: gvk.Version, Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: "*", Health: health, Message: msg})
		return
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return items[i].GetName() < items[j].GetName() })
	for i := range items {
		if t.nodes >= maxTreeNodes {
			return
		}
		if !controlledBy(&items[i], obj.GetUID()) {
			continue
		}
		child := &TreeNode{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: items[i].GetNamespace(), Name: items[i].GetName()}
		n.Children = append(n.Children, child)
		t.fill(ctx, child, &items[i])
	}
}

func controlledBy(obj *unstructured.Unstructured, uid types.UID) bool {
	for _, o := range obj.GetOwnerReferences() {
		if o.UID == uid {
			return true
		}
	}
	return false
}

// readError is how a tree shows an object it could not read.
func readError(err error) (string, string) {
	switch {
	case apierrors.IsNotFound(err):
		return string(health.NotFound), "not found"
	case apierrors.IsForbidden(err):
		return "Forbidden", "you may not read it"
	}
	return string(health.Unknown), fmt.Sprintf("read failed: %v", err)
}
