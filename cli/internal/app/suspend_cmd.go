package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

func newSuspendCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suspend",
		Short: "Suspend resources",
		Long:  "The suspend sub-commands suspend the reconciliation of a resource (spec.suspend: true).",
	}
	addKindCommands(cmd, nil, func(k Kind) bool { return k.Suspendable }, func(k Kind) *cobra.Command {
		return newSuspendKindCommand(c, k, true)
	})
	return cmd
}

func newResumeCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resume",
		Short: "Resume suspended resources",
		Long:  "The resume sub-commands resume the reconciliation of a suspended resource and wait for it to be ready.",
	}
	addKindCommands(cmd, nil, func(k Kind) bool { return k.Suspendable }, func(k Kind) *cobra.Command {
		return newSuspendKindCommand(c, k, false)
	})
	return cmd
}

// suspendFlags are the flags of suspend and resume.
type suspendFlags struct {
	all  bool
	wait bool
}

// newSuspendKindCommand builds `flux suspend KIND` (suspend) or `flux resume KIND`.
func newSuspendKindCommand(c *Command, k Kind, suspend bool) *cobra.Command {
	f := suspendFlags{}
	verb := "resume"
	if suspend {
		verb = "suspend"
	}
	use, aliases := kindUse(k, "[name...]")
	cmd := &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   fmt.Sprintf("%s the reconciliation of a %s", titleWord(verb), k.Kind),
		Example: fmt.Sprintf("  # %s the reconciliation of an existing %s\n  flux %s %s podinfo\n\n  # %s every %s in the namespace\n  flux %s %s --all",
			titleWord(verb), k.Kind, verb, humanKind(k), titleWord(verb), k.Kind, verb, humanKind(k)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.all == (len(args) > 0) {
				return fmt.Errorf("%s name is required (or --all for every %s in the namespace)", k.Kind, k.Kind)
			}
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			ns := c.Global.Namespace
			objs, err := c.selectObjects(ctx, kube, k, ns, args, f.all)
			if err != nil || len(objs) == 0 {
				return err
			}
			if suspend {
				return c.suspend(ctx, kube, k, objs)
			}
			return c.resume(ctx, kube, k, objs, f.wait)
		},
	}
	cmd.Flags().BoolVar(&f.all, "all", false, fmt.Sprintf("%s all %s objects in the namespace", verb, k.Kind))
	if !suspend {
		cmd.Flags().BoolVar(&f.wait, "wait", true, "wait for each resumed object to become ready")
	}
	return cmd
}

// selectObjects reads the named objects, or with all every one in the namespace (none is
// reported, not an error, as upstream does).
func (c *Command) selectObjects(ctx context.Context, kube *Kube, k Kind, ns string, names []string, all bool) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	if all {
		items, err := listObjects(ctx, kube, k, ns)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			c.Log().Failuref("no %s objects found in %s namespace", k.Kind, ns)
		}
		for i := range items {
			out = append(out, &items[i])
		}
		return out, nil
	}
	for _, name := range names {
		u, err := getObject(ctx, kube, k, ns, name)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (c *Command) suspend(ctx context.Context, kube *Kube, k Kind, objs []*unstructured.Unstructured) error {
	log := c.Log()
	for _, u := range objs {
		log.Actionf("suspending %s %s in %s namespace", humanKind(k), u.GetName(), u.GetNamespace())
		if err := fluxobj.SetSuspend(ctx, kube.Client, u, true); err != nil {
			return objectError(k, u.GetNamespace(), u.GetName(), err)
		}
		log.Successf("%s suspended", humanKind(k))
	}
	return nil
}

// resume unsuspends every object first, then (with wait) waits for each to be ready, so
// several objects reconcile in parallel.
func (c *Command) resume(ctx context.Context, kube *Kube, k Kind, objs []*unstructured.Unstructured, wait bool) error {
	log := c.Log()
	for _, u := range objs {
		log.Actionf("resuming %s %s in %s namespace", humanKind(k), u.GetName(), u.GetNamespace())
		if err := fluxobj.SetSuspend(ctx, kube.Client, u, false); err != nil {
			return objectError(k, u.GetNamespace(), u.GetName(), err)
		}
		log.Successf("%s resumed", humanKind(k))
	}
	if !wait || !k.Reconcilable {
		return nil
	}
	failed := 0
	for _, u := range objs {
		what := k.Kind
		if len(objs) > 1 {
			what = k.Kind + " " + u.GetName()
		}
		log.Waitingf("waiting for %s reconciliation", what)
		got, err := c.waitReady(ctx, kube, k, u.GetNamespace(), u.GetName())
		if err != nil {
			if len(objs) == 1 {
				return err
			}
			log.Failuref("%s", err)
			failed++
			continue
		}
		log.Successf("%s reconciliation completed", what)
		log.Successf("%s", revisionMessage(k, got, ""))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d %s objects did not become ready", failed, len(objs), k.Kind)
	}
	return nil
}
