package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

func newReconcileCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Reconcile sources and resources",
		Long: `The reconcile sub-commands trigger a reconciliation of sources and resources: they set the
reconcile.fluxcd.io/requestedAt annotation and wait until the controller has handled it.`,
	}
	addKindCommands(cmd, nil, func(k Kind) bool { return k.Reconcilable }, func(k Kind) *cobra.Command {
		return newReconcileKindCommand(c, k)
	})
	return cmd
}

func newReconcileKindCommand(c *Command, k Kind) *cobra.Command {
	withSource, force, reset := false, false, false
	use, aliases := kindUse(k, "[name]")
	cmd := &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   fmt.Sprintf("Reconcile a %s", k.Kind),
		Long: fmt.Sprintf(`The reconcile %s command triggers a reconciliation of a %s resource and waits for it to finish.`,
			humanKind(k), k.Kind),
		Example: fmt.Sprintf("  # Trigger a reconciliation of an existing %s\n  flux reconcile %s podinfo", k.Kind, humanKind(k)),
		Args:    exactName(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			ns := c.Global.Namespace
			if withSource {
				obj, err := getObject(ctx, kube, k, ns, args[0])
				if err != nil {
					return err
				}
				srcs, err := fluxobj.SourcesOf(obj)
				if err != nil {
					return err
				}
				for _, src := range srcs {
					if err := c.reconcile(ctx, kube, src.Kind, src.Namespace, src.Name); err != nil && !errors.Is(err, fluxobj.ErrStaticSource) {
						return err
					}
				}
			}
			var extra []string
			if force {
				extra = append(extra, meta.ForceRequestAnnotation)
			}
			if reset {
				extra = append(extra, fluxobj.ResetRequestAnnotation)
			}
			return c.reconcile(ctx, kube, k, ns, args[0], extra...)
		},
	}
	switch k.Kind {
	case "Kustomization", "HelmChart":
		cmd.Flags().BoolVar(&withSource, "with-source", false, fmt.Sprintf("reconcile the %s's source before the %s", k.Kind, k.Kind))
	case "HelmRelease":
		cmd.Flags().BoolVar(&withSource, "with-source", false, "reconcile the HelmRelease's chart source before the HelmRelease")
		cmd.Flags().BoolVar(&force, "force", false, "force a one-off install or upgrade of the HelmRelease resource")
		cmd.Flags().BoolVar(&reset, "reset", false, "reset the retry counter for the HelmRelease resource")
	}
	return cmd
}

// exactName is the argument check of commands that take one object name.
func exactName(k Kind) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 || args[0] == "" {
			return fmt.Errorf("%s name is required (one argument, got %d)", k.Kind, len(args))
		}
		return nil
	}
}

// reconcile asks the controller to reconcile the object now and waits for the outcome. The
// annotations in also (reconcile.fluxcd.io/forceAt, resetAt) get the same token.
func (c *Command) reconcile(ctx context.Context, kube *Kube, k Kind, namespace, name string, also ...string) error {
	log := c.Log()
	obj, err := getObject(ctx, kube, k, namespace, name)
	if err != nil {
		return err
	}
	if fluxobj.IsStaticSource(k, obj) {
		return fmt.Errorf("%s %s/%s is of type oci: %w", k.Kind, namespace, name, fluxobj.ErrStaticSource)
	}
	if suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend"); suspended {
		return fmt.Errorf("%s %s/%s is suspended: resume it first (flux resume %s %s -n %s)", k.Kind, namespace, name, humanKind(k), name, namespace)
	}
	log.Actionf("annotating %s %s in %s namespace", k.Kind, name, namespace)
	token, err := fluxobj.RequestReconcile(ctx, kube.Client, obj, also...)
	if err != nil {
		return objectError(k, namespace, name, err)
	}
	log.Successf("%s annotated", k.Kind)
	log.Waitingf("waiting for %s reconciliation", k.Kind)
	obj, err = c.waitReconciled(ctx, kube, k, namespace, name, token)
	if err != nil {
		return err
	}
	log.Successf("%s", revisionMessage(k, obj, ""))
	return nil
}
