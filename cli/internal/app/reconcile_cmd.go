package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
				srcs, err := sourcesOf(obj)
				if err != nil {
					return err
				}
				for _, src := range srcs {
					if err := c.reconcile(ctx, kube, src.kind, src.namespace, src.name); err != nil && !errors.Is(err, errStaticSource) {
						return err
					}
				}
			}
			var extra []string
			if force {
				extra = append(extra, meta.ForceRequestAnnotation)
			}
			if reset {
				extra = append(extra, v2ResetRequestAnnotation)
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

// v2ResetRequestAnnotation asks helm-controller to reset a HelmRelease's failure counters.
const v2ResetRequestAnnotation = "reconcile.fluxcd.io/resetAt"

// sourceObj names an object of a Flux kind.
type sourceObj struct {
	kind            Kind
	namespace, name string
}

// sourcesOf are the sources to reconcile before obj, in order: a Kustomization's sourceRef;
// a HelmRelease's chartRef, or the sourceRef of its chart template then the HelmChart made
// from it (status.helmChart).
func sourcesOf(obj *unstructured.Unstructured) ([]sourceObj, error) {
	if obj.GetKind() != "HelmRelease" {
		sk, sns, sname, err := sourceOf(obj)
		return []sourceObj{{sk, sns, sname}}, err
	}
	ref := func(path ...string) (sourceObj, bool, error) {
		m, ok, _ := unstructured.NestedStringMap(obj.Object, path...)
		if !ok || m["kind"] == "" {
			return sourceObj{}, false, nil
		}
		k, err := LookupKind("", m["kind"])
		if err != nil || !k.IsSource {
			return sourceObj{}, false, fmt.Errorf("HelmRelease %s/%s: %s.kind %q is not a source kind", obj.GetNamespace(), obj.GetName(), strings.Join(path, "."), m["kind"])
		}
		ns := m["namespace"]
		if ns == "" {
			ns = obj.GetNamespace()
		}
		return sourceObj{k, ns, m["name"]}, true, nil
	}
	if r, ok, err := ref("spec", "chartRef"); ok || err != nil {
		return []sourceObj{r}, err
	}
	r, ok, err := ref("spec", "chart", "spec", "sourceRef")
	if err != nil || !ok {
		return nil, fmt.Errorf("HelmRelease %s/%s has neither spec.chartRef nor spec.chart: %v", obj.GetNamespace(), obj.GetName(), err)
	}
	out := []sourceObj{r}
	if hc, _, _ := unstructured.NestedString(obj.Object, "status", "helmChart"); hc != "" {
		if hns, hname, ok := strings.Cut(hc, "/"); ok {
			k, _ := LookupKind("", "HelmChart")
			out = append(out, sourceObj{k, hns, hname})
		}
	}
	return out, nil
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

// reconcile asks the controller to reconcile the object now and waits for the outcome. The
// annotations in also (reconcile.fluxcd.io/forceAt, resetAt) get the same token.
func (c *Command) reconcile(ctx context.Context, kube *Kube, k Kind, namespace, name string, also ...string) error {
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
	token, err := requestReconcile(ctx, kube, obj, also...)
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
func requestReconcile(ctx context.Context, kube *Kube, obj *unstructured.Unstructured, also ...string) (string, error) {
	token := time.Now().Format(time.RFC3339Nano)
	annotations := map[string]string{meta.ReconcileRequestAnnotation: token}
	for _, a := range also {
		annotations[a] = token
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if err != nil {
		return "", err
	}
	if err := kube.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return "", err
	}
	return token, nil
}
