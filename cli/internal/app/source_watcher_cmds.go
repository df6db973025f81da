package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The kinds of source-watcher (Flux's source composition controller): ExternalArtifact is a
// source any controller may produce, ArtifactGenerator composes sources into them. Neither
// is in the kinds table: flux only reads them (get, export, tree), as upstream, so no
// create/delete/reconcile/suspend commands and no place in `flux get all` or `flux stats`.
var (
	externalArtifactKind = Kind{Kind: "ExternalArtifact", GroupVersion: sourceGV,
		Names: []string{"external", "externalartifact", "externalartifacts"}, Parent: "source", IsSource: true}
	artifactGeneratorKind = Kind{Kind: "ArtifactGenerator",
		GroupVersion: schema.GroupVersion{Group: "source.extensions.fluxcd.io", Version: "v1beta1"},
		Names:        []string{"generator", "generators", "artifactgenerator", "artifactgenerators", "ag"}, Parent: "artifact"}
)

// artifactGeneratorDisabled is the annotation (and value) that suspends an ArtifactGenerator.
const (
	artifactGeneratorReconcileAnnotation = "source.extensions.fluxcd.io/reconcile"
	artifactGeneratorDisabledValue       = "disabled"
)

// extendSourceWatcher adds get sources external, get artifacts generators, export source
// external, export artifact generator and tree artifact generator.
func extendSourceWatcher(root *cobra.Command, c *Command) {
	get := parentCommand(root, "get", "", "")
	sub(get, "sources").AddCommand(newGetExtraCommand(c, externalArtifactKind, "Get ExternalArtifact source statuses",
		"  # List all ExternalArtifacts and their status\n  flux get sources external\n\n  # List ExternalArtifacts from all namespaces\n  flux get sources external --all-namespaces"))
	artifacts := &cobra.Command{Use: "artifacts", Aliases: []string{"artifact"}, Short: "Get artifact statuses", Args: cobra.ArbitraryArgs, RunE: unknownWordRunE("artifact")}
	get.AddCommand(artifacts)
	artifacts.AddCommand(newGetExtraCommand(c, artifactGeneratorKind, "Get artifact generator statuses",
		"  # List all ArtifactGenerators and their status\n  flux get artifact generators"))

	export := parentCommand(root, "export", "", "")
	sub(export, "source").AddCommand(markKind(newExportKindCommand(c, []Kind{externalArtifactKind}, "external", externalArtifactKind.Names[1:]), externalArtifactKind))
	exportArtifact := &cobra.Command{Use: "artifact", Aliases: []string{"artifacts"}, Short: "Export artifact objects", Args: cobra.ArbitraryArgs, RunE: unknownWordRunE("artifact")}
	exportArtifact.AddCommand(markKind(newExportKindCommand(c, []Kind{artifactGeneratorKind}, "generator", artifactGeneratorKind.Names[1:]), artifactGeneratorKind))
	export.AddCommand(exportArtifact)

	tree := parentCommand(root, "tree", "", "")
	treeArtifact := &cobra.Command{Use: "artifact", Short: "Print the artifacts reconciled by Flux", Args: cobra.ArbitraryArgs, RunE: unknownWordRunE("artifact")}
	treeArtifact.AddCommand(newTreeArtifactGeneratorCommand(c))
	tree.AddCommand(treeArtifact)
}

// sub is parent's subcommand named name (it must exist: the kind tables build it).
func sub(parent *cobra.Command, name string) *cobra.Command {
	for _, s := range parent.Commands() {
		if s.Name() == name {
			return s
		}
	}
	panic(fmt.Sprintf("flux %s has no %s subcommand", parent.Name(), name))
}

// newGetExtraCommand is flux get for a kind outside the kinds table; it reads flux get's
// persistent flags.
func newGetExtraCommand(c *Command, k Kind, short, example string) *cobra.Command {
	use, aliases := k.Names[0], k.Names[1:]
	if k.Parent == "artifact" {
		use, aliases = "generators", []string{"generator", "artifactgenerator", "artifactgenerators", "ag"}
	}
	return markKind(&cobra.Command{
		Use:     use + " [name]",
		Aliases: aliases,
		Short:   short,
		Example: example,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := &getFlags{}
			fs := cmd.Flags()
			f.allNamespaces, _ = fs.GetBool("all-namespaces")
			f.watch, _ = fs.GetBool("watch")
			f.noHeader, _ = fs.GetBool("no-header")
			f.statusSelector, _ = fs.GetString("status-selector")
			return c.runGet(cmd.Context(), f, []Kind{k}, args)
		},
	}, k)
}

// sourceWatcherHeader and sourceWatcherRow are the tables of the two kinds, as upstream:
// NAME REVISION SOURCE READY MESSAGE for ExternalArtifacts (SOURCE is the producer's
// Kind/namespace/name), NAME SUSPENDED READY MESSAGE for ArtifactGenerators.
func sourceWatcherHeader(k Kind) ([]string, bool) {
	switch k.Kind {
	case externalArtifactKind.Kind:
		return []string{"NAME", "REVISION", "SOURCE", "READY", "MESSAGE"}, true
	case artifactGeneratorKind.Kind:
		return []string{"NAME", "SUSPENDED", "READY", "MESSAGE"}, true
	}
	return nil, false
}

func sourceWatcherRow(k Kind, u *unstructured.Unstructured, includeKind bool) ([]string, bool) {
	switch k.Kind {
	case externalArtifactKind.Kind, artifactGeneratorKind.Kind:
	default:
		return nil, false
	}
	full := getRow(u, false, includeKind) // name, revision, suspended, ready, message
	if k.Kind == artifactGeneratorKind.Kind {
		suspended := "False"
		if strings.EqualFold(u.GetAnnotations()[artifactGeneratorReconcileAnnotation], artifactGeneratorDisabledValue) {
			suspended = "True"
		}
		return []string{full[0], suspended, full[3], full[4]}, true
	}
	source := ""
	if ref, ok, _ := unstructured.NestedStringMap(u.Object, "spec", "sourceRef"); ok {
		source = ref["kind"] + "/" + ref["namespace"] + "/" + ref["name"]
	}
	return []string{full[0], full[1], source, full[3], full[4]}, true
}

func newTreeArtifactGeneratorCommand(c *Command) *cobra.Command {
	o := &treeOptions{}
	cmd := &cobra.Command{
		Use:     "generator [name]",
		Aliases: []string{"generators", "artifactgenerator", "ag"},
		Short:   "Print the inventory of an ArtifactGenerator",
		Long:    "The tree command prints the ExternalArtifact list managed by an ArtifactGenerator.",
		Example: "  # Print the ExternalArtifacts managed by an ArtifactGenerator\n  flux tree artifact generator my-generator",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.printTree(cmd.Context(), o.output, func(ctx context.Context, kube *Kube) (objectTree, error) {
				return artifactGeneratorTree(ctx, kube, c.Global.Namespace, args[0])
			})
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "the format in which the tree should be printed. can be 'json' or 'yaml'")
	return markKind(cmd, artifactGeneratorKind)
}

// artifactGeneratorTree is the generator with its status.inventory (the ExternalArtifacts it
// generated and the Namespaces it manages) as children.
func artifactGeneratorTree(ctx context.Context, kube *Kube, namespace, name string) (objectTree, error) {
	u, err := getObject(ctx, kube, artifactGeneratorKind, namespace, name)
	if err != nil {
		return objectTree{}, err
	}
	t := objectTree{Resource: treeObject{Namespace: namespace, Name: name, GroupKind: artifactGeneratorKind.GVK().GroupKind()}}
	entries, _, _ := unstructured.NestedSlice(u.Object, "status", "inventory")
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		kind, _ := m["kind"].(string)
		n, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		gk := schema.GroupKind{Group: sourceGV.Group, Kind: externalArtifactKind.Kind}
		if kind == "Namespace" {
			gk, ns = schema.GroupKind{Kind: "Namespace"}, ""
		} else if ns == "" {
			ns = namespace
		}
		t.Children = append(t.Children, objectTree{Resource: treeObject{Namespace: ns, Name: n, GroupKind: gk}})
	}
	return t, nil
}
