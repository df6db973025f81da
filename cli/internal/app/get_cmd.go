package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// getFlags are flux get's flags, shared by all its subcommands.
type getFlags struct {
	allNamespaces  bool
	watch          bool
	noHeader       bool
	statusSelector string
}

// getKinds are the kinds flux get shows with the common table (NAME REVISION SUSPENDED
// READY MESSAGE): the sources, Kustomizations and HelmReleases.
func getKinds() []Kind {
	var out []Kind
	for _, k := range Kinds() {
		if k.IsSource || k.Kind == "Kustomization" || k.Kind == "HelmRelease" {
			out = append(out, k)
		}
	}
	return out
}

func newGetCommand(c *Command) *cobra.Command {
	f := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Get the resources and their status",
		Long:  "The get sub-commands print the statuses of Flux resources.",
	}
	pf := cmd.PersistentFlags()
	pf.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list the requested object(s) across all namespaces")
	pf.BoolVarP(&f.watch, "watch", "w", false, "after listing/getting the requested object, watch for changes")
	pf.BoolVar(&f.noHeader, "no-header", false, "skip the header when printing the results")
	pf.StringVar(&f.statusSelector, "status-selector", "", "specify the status condition name and the desired state to filter the get result, e.g. ready=false")

	accept := map[string]bool{}
	var sources []Kind
	for _, k := range Kinds() {
		if isNotificationKind(k) {
			accept[k.Kind] = true // flux get alerts|alert-providers|receivers, not in get all
		}
	}
	for _, k := range append(getKinds(), imageKinds()...) {
		accept[k.Kind] = true
		if k.IsSource {
			sources = append(sources, k)
		}
	}
	parents := addKindCommands(cmd, map[string]string{"source": "sources", "image": "images"}, func(k Kind) bool { return accept[k.Kind] }, func(k Kind) *cobra.Command {
		use, aliases := kindUse(k, "[name]")
		return &cobra.Command{
			Use:     use,
			Aliases: aliases,
			Short:   fmt.Sprintf("Get %s statuses", k.Kind),
			Example: fmt.Sprintf("  # List the %[1]s objects and their status\n  flux get %[2]s\n\n  # List those that are not ready, in every namespace\n  flux get %[2]s -A --status-selector ready=false",
				k.Kind, getPath(k)),
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.runGet(cmd.Context(), f, []Kind{k}, args)
			},
		}
	})
	parents["source"].AddCommand(&cobra.Command{
		Use:   "all",
		Short: "Get all source statuses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runGet(cmd.Context(), f, sources, nil)
		},
	})
	parents["image"].AddCommand(&cobra.Command{
		Use:   "all",
		Short: "Get all image statuses",
		Example: `  # List all image objects in a namespace
  flux get images all --namespace=flux-system`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runGet(cmd.Context(), f, imageKinds(), nil)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "all",
		Short: "Get all resources and statuses",
		Example: `  # List all sources, Kustomizations and HelmReleases and their status
  flux get all -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runGet(cmd.Context(), f, getKinds(), nil)
		},
	})
	return cmd
}

// getPath is the words of flux get for a kind: "sources git", "kustomizations".
func getPath(k Kind) string {
	if k.Parent == "source" {
		return "sources " + k.Names[0]
	}
	if k.Parent == "image" {
		return "images " + k.Names[0]
	}
	return k.Names[0]
}

// runGet prints one table per kind. With several kinds (get all) rows are named
// "kind/name", empty kinds and kinds the cluster does not serve are left out, and a blank
// line follows each table, as upstream does.
func (c *Command) runGet(ctx context.Context, f *getFlags, ks []Kind, args []string) error {
	sel, err := parseStatusSelector(f.statusSelector)
	if err != nil {
		return err
	}
	if f.watch && len(ks) > 1 {
		return errors.New("--watch works on one kind: use e.g. flux get kustomizations --watch")
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ns := c.commandNamespace(f.allNamespaces)
	if f.watch {
		return c.watchGet(ctx, kube, f, ks[0], ns, args, sel)
	}
	many := len(ks) > 1
	printed := false
	for _, k := range ks {
		var items []unstructured.Unstructured
		if len(args) == 1 {
			u, err := getObject(ctx, kube, k, c.Global.Namespace, args[0])
			if err != nil {
				return err
			}
			items = []unstructured.Unstructured{*u}
		} else {
			items, err = listObjects(ctx, kube, k, ns)
			if many && isKindNotServed(err) {
				continue
			} else if err != nil {
				return err
			}
		}
		var rows [][]string
		for i := range items {
			if sel.matches(&items[i]) {
				rows = append(rows, kindRow(k, &items[i], f.allNamespaces, many))
			}
		}
		if len(rows) == 0 {
			if !many {
				c.noObjects(k.Kind, ns)
			}
			continue
		}
		if err := renderTable(c.Out, c.header(f, k), rows); err != nil {
			return err
		}
		if many {
			fmt.Fprintln(c.Out)
		}
		printed = true
	}
	if many && !printed {
		c.noObjects("Flux", ns)
	}
	return nil
}

// header is kind k's table header unless --no-header.
func (c *Command) header(f *getFlags, k Kind) []string {
	if f.noHeader {
		return nil
	}
	return kindHeader(k, f.allNamespaces)
}

// noObjects reports an empty result on stderr; it is not an error (exit 0), as upstream.
func (c *Command) noObjects(what, ns string) {
	if ns == "" {
		c.Log().Failuref("no %s objects found in any namespace", what)
		return
	}
	c.Log().Failuref("no %s objects found in %s namespace", what, ns)
}
