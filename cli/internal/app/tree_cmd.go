package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"gotk.dev/pkg/inventory"
)

// treeOptions are the flags of flux tree kustomization.
type treeOptions struct {
	compact bool
	output  string
}

func newTreeCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tree",
		Short: "Print the resources reconciled by Flux",
		Long:  "The tree command prints the resources reconciled by Flux.",
	}
	o := &treeOptions{}
	ks := &cobra.Command{
		Use:     "kustomization [name]",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Print the resources reconciled by a Kustomization",
		Long:    "The tree command prints the resources reconciled by a Kustomization, expanding the Kustomizations and HelmReleases it manages.",
		Example: `  # Print the resources managed by the root Kustomization
  flux tree kustomization flux-system

  # Print the Flux resources managed by the root Kustomization
  flux tree kustomization flux-system --compact`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runTree(cmd.Context(), args[0], o)
		},
	}
	ks.Flags().BoolVar(&o.compact, "compact", false, "list Flux resources only.")
	ks.Flags().StringVarP(&o.output, "output", "o", "", "the format in which the tree should be printed. can be 'json' or 'yaml'")
	markKind(ks, Kind{Kind: "Kustomization"})
	cmd.AddCommand(ks)
	return cmd
}

// treeObject identifies a tree node; its JSON form is upstream's (cli-utils' ObjMetadata),
// so scripts reading `flux tree -o json` keep working.
type treeObject struct {
	Namespace string
	Name      string
	GroupKind schema.GroupKind
}

// objectTree is an object with the objects it manages.
type objectTree struct {
	Resource treeObject   `json:"resource"`
	Children []objectTree `json:"resources,omitempty"`
}

func (c *Command) runTree(ctx context.Context, name string, o *treeOptions) error {
	return c.printTree(ctx, o.output, func(ctx context.Context, kube *Kube) (objectTree, error) {
		k, _ := LookupKind("", "Kustomization")
		root := treeObject{Namespace: c.Global.Namespace, Name: name, GroupKind: k.GVK().GroupKind()}
		t := &treeBuilder{client: kube.Client, compact: o.compact, visited: map[treeObject]bool{}}
		return t.build(ctx, root, true)
	})
}

// printTree builds a tree with the cluster's clients and prints it as a drawing, or as JSON
// or YAML with --output.
func (c *Command) printTree(ctx context.Context, output string, build func(context.Context, *Kube) (objectTree, error)) error {
	switch output {
	case "", "json", "yaml":
	default:
		return fmt.Errorf("invalid --output %q: can be 'json' or 'yaml'", output)
	}
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	tree, err := build(ctx, kube)
	if err != nil {
		return err
	}
	switch output {
	case "json":
		b, err := json.MarshalIndent(tree, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(c.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(tree)
		if err != nil {
			return err
		}
		_, err = c.Out.Write(b)
		return err
	}
	return printTree(c.Out, tree)
}

// treeBuilder expands inventories: each Kustomization (and HelmRelease with
// status.inventory) in an inventory becomes a subtree.
type treeBuilder struct {
	client  client.Client
	compact bool
	// visited stops a cycle (a Kustomization that lists itself or an ancestor).
	visited map[treeObject]bool
}

// build returns the tree of obj. The root must exist; a nested Kustomization that is gone
// (deleted since the inventory was written) is a leaf.
func (t *treeBuilder) build(ctx context.Context, obj treeObject, root bool) (objectTree, error) {
	node := objectTree{Resource: obj}
	if !hasInventory(obj.GroupKind) || t.visited[obj] {
		return node, nil
	}
	t.visited[obj] = true
	k, err := LookupKind("", obj.GroupKind.Kind)
	if err != nil {
		return node, err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	if err := t.client.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Name}, u); err != nil {
		if apierrors.IsNotFound(err) && !root {
			return node, nil
		}
		if apierrors.IsNotFound(err) {
			return node, fmt.Errorf("%s/%s/%s not found", obj.GroupKind.Kind, obj.Namespace, obj.Name)
		}
		return node, fmt.Errorf("getting %s/%s/%s: %w", obj.GroupKind.Kind, obj.Namespace, obj.Name, err)
	}
	entries, _, _ := unstructured.NestedSlice(u.Object, "status", "inventory", "entries")
	for _, e := range entries {
		m, _ := e.(map[string]any)
		id, _ := m["id"].(string)
		meta, err := inventory.Parse(id)
		if err != nil {
			return node, fmt.Errorf("inventory of %s/%s/%s: %w", obj.GroupKind.Kind, obj.Namespace, obj.Name, err)
		}
		child := treeObject{Namespace: meta.Namespace, Name: meta.Name, GroupKind: meta.GroupKind()}
		if t.compact && !isFluxGroup(child.GroupKind.Group) {
			continue
		}
		sub, err := t.build(ctx, child, false)
		if err != nil {
			return node, err
		}
		node.Children = append(node.Children, sub)
	}
	return node, nil
}

// hasInventory reports whether objects of gk record what they manage in status.inventory.
func hasInventory(gk schema.GroupKind) bool {
	return (gk.Group == "kustomize.toolkit.fluxcd.io" && gk.Kind == "Kustomization") ||
		(gk.Group == "helm.toolkit.fluxcd.io" && gk.Kind == "HelmRelease")
}

func isFluxGroup(group string) bool { return strings.HasSuffix(group, ".toolkit.fluxcd.io") }

// String is "Kind/namespace/name", or "Kind/name" for cluster-scoped objects.
func (o treeObject) String() string {
	if o.Namespace == "" {
		return o.GroupKind.Kind + "/" + o.Name
	}
	return o.GroupKind.Kind + "/" + o.Namespace + "/" + o.Name
}

// printTree draws the tree with box-drawing characters, as upstream does.
func printTree(w io.Writer, tree objectTree) error {
	var b strings.Builder
	b.WriteString(tree.Resource.String())
	b.WriteByte('\n')
	var walk func(children []objectTree, prefix string)
	walk = func(children []objectTree, prefix string) {
		for i, ch := range children {
			branch, indent := "├── ", "│   "
			if i == len(children)-1 {
				branch, indent = "└── ", "    "
			}
			b.WriteString(prefix + branch + ch.Resource.String() + "\n")
			walk(ch.Children, prefix+indent)
		}
	}
	walk(tree.Children, "")
	_, err := io.WriteString(w, b.String())
	return err
}
