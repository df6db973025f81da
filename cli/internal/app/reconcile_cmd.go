package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
	withSource := false
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
				sk, sns, sname, err := sourceOf(obj)
				if err != nil {
					return err
				}
				if err := c.reconcile(ctx, kube, sk, sns, sname); err != nil && !errors.Is(err, errStaticSource) {
					return err
				}
			}
			return c.reconcile(ctx, kube, k, ns, args[0])
		},
	}
	switch k.Kind {
	case "Kustomization", "HelmChart":
		cmd.Flags().BoolVar(&withSource, "with-source", false, fmt.Sprintf("reconcile the %s's source before the %s", k.Kind, k.Kind))
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

// errStaticSource is a source the controller never reconciles: an OCI HelmRepository, a data
// container HelmCharts read directly (reconciling it --with-source is skipped).
var errStaticSource = errors.New("reconciliation is not supported: it is a data container the source-controller does not reconcile, the HelmCharts that use it read it directly")

// isStaticSource reports whether obj is an OCI HelmRepository.
func isStaticSource(k Kind, obj *unstructured.Unstructured) bool {
	typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	return k.Kind == "HelmRepository" && typ == "oci"
}

// sourceOf is the kind, namespace and name of a Kustomization's or HelmChart's spec.sourceRef
// (the namespace defaults to the object's own).
func sourceOf(u *unstructured.Unstructured) (Kind, string, string, error) {
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "kind")
	name, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = u.GetNamespace()
	}
	sk, err := LookupKind("", kind)
	if err != nil || !sk.IsSource {
		return Kind{}, "", "", fmt.Errorf("%s %s/%s: spec.sourceRef.kind %q is not a source kind", u.GetKind(), u.GetNamespace(), u.GetName(), kind)
	}
	return sk, ns, name, nil
}

// reconcile asks the controller to reconcile the object now and waits for the outcome.
func (c *Command) reconcile(ctx context.Context, kube *Kube, k Kind, namespace, name string) error {
	log := c.Log()
	obj, err := getObject(ctx, kube, k, namespace, name)
	if err != nil {
		return err
	}
	if isStaticSource(k, obj) {
		return fmt.Errorf("%s %s/%s is of type oci: %w", k.Kind, namespace, name, errStaticSource)
	}
	if suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend"); suspended {
		return fmt.Errorf("%s %s/%s is suspended: resume it first (flux resume %s %s -n %s)", k.Kind, namespace, name, humanKind(k), name, namespace)
	}
	log.Actionf("annotating %s %s in %s namespace", k.Kind, name, namespace)
	token, err := requestReconcile(ctx, kube, obj)
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

// requestReconcile sets reconcile.fluxcd.io/requestedAt to now and returns the token. The
// token is unique per call (nanoseconds), so the wait cannot mistake an older request for it.
func requestReconcile(ctx context.Context, kube *Kube, obj *unstructured.Unstructured) (string, error) {
	token := time.Now().Format(time.RFC3339Nano)
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, token)
	if err := kube.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return "", err
	}
	return token, nil
}
