package app

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func newExportCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export resources in YAML format",
		Long: `The export sub-commands export resources in YAML format: the objects as a user would write
them, without status and without the metadata the cluster sets.`,
	}
	parents := addKindCommands(cmd, nil, func(Kind) bool { return true }, func(k Kind) *cobra.Command {
		return newExportKindCommand(c, []Kind{k}, k.Names[0], k.Names[1:])
	})
	var sources []Kind
	for _, k := range Kinds() {
		if k.IsSource {
			sources = append(sources, k)
		}
	}
	all := newExportKindCommand(c, sources, "all", nil)
	all.Short = "Export all sources"
	parents["source"].AddCommand(all)
	return cmd
}

// exportFlags are the flags of every export subcommand.
type exportFlags struct {
	all             bool
	withCredentials bool
}

// newExportKindCommand exports objects of one kind, or with several kinds ("source all")
// every object of each with --all.
func newExportKindCommand(c *Command, ks []Kind, name string, aliases []string) *cobra.Command {
	f := exportFlags{all: len(ks) > 1}
	k := ks[0]
	what := k.Kind
	if len(ks) > 1 {
		what = "source"
	}
	cmd := &cobra.Command{
		Use:     name + " [name]",
		Aliases: aliases,
		Short:   fmt.Sprintf("Export %s resources in YAML format", k.Kind),
		Example: fmt.Sprintf("  # Export every %[1]s in the namespace\n  flux export %[2]s --all > %[3]s.yaml\n\n  # Export one %[1]s\n  flux export %[2]s podinfo > podinfo.yaml",
			k.Kind, humanKind(k), k.Names[0]),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(ks) > 1 && len(args) > 0 {
				return fmt.Errorf("flux export source all takes no name")
			}
			if f.all == (len(args) > 0) || len(args) > 1 {
				return fmt.Errorf("%s name is required (or --all for every %s in the namespace)", k.Kind, k.Kind)
			}
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			ns := c.Global.Namespace
			var objs []*unstructured.Unstructured
			if f.all {
				for _, k := range ks {
					items, err := listObjects(ctx, kube, k, ns)
					if isKindNotServed(err) && len(ks) > 1 {
						continue
					} else if err != nil {
						return err
					}
					for i := range items {
						objs = append(objs, &items[i])
					}
				}
				if len(objs) == 0 {
					return fmt.Errorf("no %s objects found in %s namespace", what, ns)
				}
			} else {
				u, err := getObject(ctx, kube, k, ns, args[0])
				if err != nil {
					return err
				}
				objs = append(objs, u)
			}
			for _, u := range objs {
				if err := printExport(c.Out, u); err != nil {
					return err
				}
				if f.withCredentials {
					if err := c.exportCredentials(ctx, kube, u); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	if len(ks) == 1 {
		cmd.Flags().BoolVar(&f.all, "all", false, fmt.Sprintf("select all %s objects in the namespace", k.Kind))
	}
	if k.IsSource {
		cmd.Flags().BoolVar(&f.withCredentials, "with-credentials", false, "include the credential secrets (spec.secretRef)")
	}
	return cmd
}

// exportCredentials prints the Secret a source names in spec.secretRef.
func (c *Command) exportCredentials(ctx context.Context, kube *Kube, u *unstructured.Unstructured) error {
	name, _, _ := unstructured.NestedString(u.Object, "spec", "secretRef", "name")
	if name == "" {
		return nil
	}
	secretKind := Kind{Kind: "Secret", GroupVersion: schema.GroupVersion{Version: "v1"}}
	s, err := getObject(ctx, kube, secretKind, u.GetNamespace(), name)
	if err != nil {
		return fmt.Errorf("credentials of %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return printExport(c.Out, s)
}

// cleanExport is the object as a user would write it: apiVersion, kind, name, namespace,
// labels, annotations, and the spec (a Secret's type and data). Status, UID, resource
// version, managed fields, finalizers and timestamps are the cluster's and are dropped.
func cleanExport(u *unstructured.Unstructured) map[string]any {
	md := map[string]any{"name": u.GetName()}
	if ns := u.GetNamespace(); ns != "" {
		md["namespace"] = ns
	}
	if l := u.GetLabels(); len(l) > 0 {
		md["labels"] = l
	}
	if a := u.GetAnnotations(); len(a) > 0 {
		md["annotations"] = a
	}
	out := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": md}
	keep := []string{"spec"}
	if u.GetKind() == "Secret" && u.GetAPIVersion() == "v1" {
		keep = []string{"type", "data", "stringData", "immutable"}
	}
	for _, key := range keep {
		if v, ok := u.Object[key]; ok && v != nil {
			out[key] = v
		}
	}
	return out
}

// printExport writes one document the way upstream flux does: "---", the YAML, a blank line.
func printExport(w io.Writer, u *unstructured.Unstructured) error {
	data, err := yaml.Marshal(cleanExport(u))
	if err != nil {
		return fmt.Errorf("marshal %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	_, err = fmt.Fprintf(w, "---\n%s\n", data)
	return err
}
