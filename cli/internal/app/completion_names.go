package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// kindAnnotation marks a command that takes the name of an object of one kind
// (Kind.GVK().String()), so shell completion offers the names in the cluster.
const kindAnnotation = "flux.gotk.dev/kind"

// completionTimeout bounds the API call behind a <Tab>: a slow cluster must not hang the shell.
const completionTimeout = 5 * time.Second

// markKind tags cmd as taking a name of kind k.
func markKind(cmd *cobra.Command, k Kind) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[kindAnnotation] = k.Kind
	return cmd
}

// addNameCompletion gives every command marked with markKind a completion of object names,
// as upstream: the objects of that kind in --namespace (or every namespace with -A).
func addNameCompletion(root *cobra.Command, c *Command) {
	byKind := map[string]Kind{}
	for _, k := range append(Kinds(), externalArtifactKind, artifactGeneratorKind) {
		byKind[k.Kind] = k
	}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if k, ok := byKind[cmd.Annotations[kindAnnotation]]; ok && cmd.ValidArgsFunction == nil {
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return c.completeNames(cmd, k, args, toComplete)
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeNames lists the names of kind k starting with toComplete. Errors complete
// nothing: a completion has no place to report them.
func (c *Command) completeNames(cmd *cobra.Command, k Kind, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if cmd.Args != nil && cmd.Args(cmd, append(slices.Clone(args), "x")) != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp // takes no more names
	}
	// Completion runs without the root's pre-run: settle the namespace here.
	if err := c.Global.Resolve(cmd.Flags(), c.Getenv); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	kube, err := c.Global.Kube()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ns := c.Global.Namespace
	if all, _ := cmd.Flags().GetBool("all-namespaces"); all {
		ns = ""
	}
	items, err := listObjects(ctx, kube, k, ns)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, u := range items {
		if strings.HasPrefix(u.GetName(), toComplete) && !slices.Contains(args, u.GetName()) {
			names = append(names, u.GetName())
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
