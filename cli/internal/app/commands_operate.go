package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// operateCommands are the commands that work on Flux objects: create (create_*.go), get
// (get_*.go), reconcile (reconcile_*.go), suspend and resume (suspend_*.go), delete
// (delete_*.go), export (export_*.go) and trigger (trigger_cmd.go).
func operateCommands(c *Command) []*cobra.Command {
	return []*cobra.Command{
		newCreateCommand(c), newGetCommand(c), newReconcileCommand(c),
		newSuspendCommand(c), newResumeCommand(c), newDeleteCommand(c), newExportCommand(c),
		newTriggerCommand(c),
	}
}

// addKindCommands gives verb one subcommand per accepted kind, built by build: top-level
// kinds directly under verb ("flux reconcile kustomization"), the others under their parent
// word ("flux reconcile source git"). parentUse names a parent command when it differs from
// the parent word ("sources" for get). A word that is no subcommand fails with the valid ones.
// It returns the parent commands by parent word, for extra subcommands ("source all").
func addKindCommands(verb *cobra.Command, parentUse map[string]string, accept func(Kind) bool, build func(Kind) *cobra.Command) map[string]*cobra.Command {
	parents := map[string]*cobra.Command{}
	for _, k := range Kinds() {
		if !accept(k) {
			continue
		}
		if k.Parent == "" {
			verb.AddCommand(markKind(build(k), k))
			continue
		}
		p, ok := parents[k.Parent]
		if !ok {
			use := k.Parent
			aliases := []string{k.Parent + "s"}
			if u, ok := parentUse[k.Parent]; ok {
				use, aliases = u, []string{k.Parent}
			}
			p = &cobra.Command{
				Use:     use,
				Aliases: aliases,
				Short:   fmt.Sprintf("%s %s objects", titleWord(verb.Name()), k.Parent),
				Args:    cobra.ArbitraryArgs,
				RunE:    unknownWordRunE(k.Parent),
			}
			parents[k.Parent] = p
			verb.AddCommand(p)
		}
		p.AddCommand(markKind(build(k), k))
	}
	verb.Args = cobra.ArbitraryArgs
	verb.RunE = unknownWordRunE("")
	return parents
}

// unknownWordRunE is the RunE of a command whose work is done by its subcommands: without
// arguments it prints help, with one it explains that the word is no kind it knows.
func unknownWordRunE(parent string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		var valid []string
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() && sub.Name() != "help" {
				valid = append(valid, sub.Name())
			}
		}
		sort.Strings(valid)
		k, err := LookupKind(parent, args[0])
		if err != nil {
			return fmt.Errorf("unknown kind %q for %s: valid ones are %s", args[0], cmd.CommandPath(), strings.Join(valid, ", "))
		}
		if slices.Contains(valid, k.Names[0]) && k.Parent == parent {
			return fmt.Errorf("unknown kind %q for %s: use %s %s (valid ones are %s)", args[0], cmd.CommandPath(), cmd.CommandPath(), k.Names[0], strings.Join(valid, ", "))
		}
		return fmt.Errorf("%s does not work on %s objects: valid ones are %s", cmd.CommandPath(), k.Kind, strings.Join(valid, ", "))
	}
}

// titleWord upper-cases the first letter: "get" -> "Get".
func titleWord(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// humanKind is how upstream flux names a kind in progress messages: "source git",
// "kustomization", "image policy".
func humanKind(k Kind) string {
	return strings.TrimSpace(k.Parent + " " + k.Names[0])
}

// kindUse is a kind subcommand's name and aliases.
func kindUse(k Kind, args string) (string, []string) {
	return strings.TrimSpace(k.Names[0] + " " + args), k.Names[1:]
}

// newObject is an empty object of kind k, for the client to fill.
func newObject(k Kind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	return u
}

// newList is an empty list of kind k.
func newList(k Kind) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(k.GroupVersion.WithKind(k.Kind + "List"))
	return l
}

// getObject reads one object; a missing object or kind is reported by name.
func getObject(ctx context.Context, kube *Kube, k Kind, namespace, name string) (*unstructured.Unstructured, error) {
	u := newObject(k)
	if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
		return nil, objectError(k, namespace, name, err)
	}
	return u, nil
}

// listObjects lists the objects of kind k in namespace ("" is every namespace), sorted by
// namespace and name.
func listObjects(ctx context.Context, kube *Kube, k Kind, namespace string) ([]unstructured.Unstructured, error) {
	l := newList(k)
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := kube.Client.List(ctx, l, opts...); err != nil {
		return nil, kindError(k, err)
	}
	items := l.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].GetNamespace() != items[j].GetNamespace() {
			return items[i].GetNamespace() < items[j].GetNamespace()
		}
		return items[i].GetName() < items[j].GetName()
	})
	return items, nil
}

// kindNotServedError is a kind the cluster has no CRD for (Flux, or that part of it, is not
// installed); commands over several kinds skip such kinds.
type kindNotServedError struct{ kind Kind }

func (e *kindNotServedError) Error() string {
	return fmt.Sprintf("the cluster does not serve %s (%s): are the Flux CRDs installed?", e.kind.Kind, e.kind.GroupVersion)
}

// isKindNotServed reports whether err is a kindNotServedError.
func isKindNotServed(err error) bool {
	var e *kindNotServedError
	return errors.As(err, &e)
}

// kindError explains a kind the API server does not know, and names the kind otherwise.
func kindError(k Kind, err error) error {
	if apimeta.IsNoMatchError(err) {
		return &kindNotServedError{kind: k}
	}
	return fmt.Errorf("%s: %w", k.Kind, err)
}

// objectError names the object in a read or write failure.
func objectError(k Kind, namespace, name string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %s/%s not found", k.Kind, namespace, name)
	case apimeta.IsNoMatchError(err):
		return kindError(k, err)
	}
	return fmt.Errorf("%s %s/%s: %w", k.Kind, namespace, name, err)
}

// commandNamespace is where a command works: --namespace, or every namespace.
func (c *Command) commandNamespace(all bool) string {
	if all {
		return ""
	}
	return c.Global.Namespace
}

// withTimeout bounds a whole command by --timeout, as upstream flux does.
func (c *Command) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.Global.Timeout)
}
