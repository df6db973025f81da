package app

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func newDeleteCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete sources and resources",
		Long:  "The delete sub-commands delete sources and resources.",
	}
	addKindCommands(cmd, nil, func(Kind) bool { return true }, func(k Kind) *cobra.Command {
		return newDeleteKindCommand(c, k)
	})
	return cmd
}

func newDeleteKindCommand(c *Command, k Kind) *cobra.Command {
	silent := false
	use, aliases := kindUse(k, "[name]")
	cmd := &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   fmt.Sprintf("Delete a %s", k.Kind),
		Example: fmt.Sprintf("  # Delete a %s\n  flux delete %s podinfo", k.Kind, humanKind(k)),
		Args:    exactName(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			ns, name := c.Global.Namespace, args[0]
			obj, err := getObject(ctx, kube, k, ns, name)
			if err != nil {
				return err
			}
			if !silent {
				yes, err := c.confirm(deleteQuestion(k, obj))
				if err != nil {
					return err
				}
				if !yes {
					return errors.New("aborting")
				}
			}
			log := c.Log()
			log.Actionf("deleting %s %s in %s namespace", humanKind(k), name, ns)
			if err := kube.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				return objectError(k, ns, name, err)
			}
			log.Successf("%s deleted", humanKind(k))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&silent, "silent", "s", false, "delete resource without asking for confirmation")
	return cmd
}

// deleteQuestion is the confirmation prompt. Deleting a Kustomization that prunes (and is not
// suspended) also deletes what it applied: the question says so.
func deleteQuestion(k Kind, obj *unstructured.Unstructured) string {
	q := "Are you sure you want to delete this " + humanKind(k)
	prune, _, _ := unstructured.NestedBool(obj.Object, "spec", "prune")
	suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend")
	if k.Kind == "Kustomization" && prune && !suspended {
		return fmt.Sprintf("This action will remove the Kubernetes objects previously applied by the %s kustomization. %s", obj.GetName(), q)
	}
	return q
}
