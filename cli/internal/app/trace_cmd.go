package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// traceOptions are the flags of flux trace.
type traceOptions struct {
	kind, apiVersion string
}

func newTraceCommand(c *Command) *cobra.Command {
	o := &traceOptions{}
	cmd := &cobra.Command{
		Use:   "trace <resource> <name> [<name> ...]",
		Short: "Trace in-cluster objects throughout the GitOps delivery pipeline",
		Long: `The trace command shows how one or more objects are managed by Flux,
from which source and revision they come, and what the latest reconciliation status is.

You can also trace multiple objects with different resource kinds using <resource>/<name> multiple times.`,
		Example: `  # Trace a Kubernetes Deployment
  flux trace -n apps deployment my-app

  # Trace a Kubernetes Pod and a config map
  flux trace -n redis pod/redis-master-0 cm/redis

  # Trace a Kubernetes global object
  flux trace namespace redis

  # Trace a Kubernetes custom resource
  flux trace -n redis helmrelease redis

  # API Version and Kind can also be specified explicitly
  flux trace redis --kind=helmrelease --api-version=helm.toolkit.fluxcd.io/v2 -n redis`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := traceTargets(args, o)
			if err != nil {
				return err
			}
			return c.runTrace(cmd.Context(), targets, o.apiVersion)
		},
	}
	cmd.Flags().StringVar(&o.kind, "kind", "", "the Kubernetes object kind, e.g. Deployment")
	cmd.Flags().StringVar(&o.apiVersion, "api-version", "", "the Kubernetes object API version, e.g. 'apps/v1'")
	return cmd
}

// traceTarget is one object to trace: a kind or resource word, and a name.
type traceTarget struct{ kind, name string }

// traceTargets reads the argument forms upstream takes: names with --kind, <resource>/<name>
// pairs, or a resource word followed by names.
func traceTargets(args []string, o *traceOptions) ([]traceTarget, error) {
	var out []traceTarget
	switch {
	case o.kind != "":
		for _, a := range args {
			if k, n, ok := strings.Cut(a, "/"); ok {
				if !strings.EqualFold(o.kind, k) {
					return nil, fmt.Errorf("the object %q and --kind=%s disagree", a, o.kind)
				}
				a = n
			}
			out = append(out, traceTarget{o.kind, a})
		}
	case strings.Contains(args[0], "/"):
		for _, a := range args {
			k, n, ok := strings.Cut(a, "/")
			if !ok || k == "" || n == "" {
				return nil, fmt.Errorf("invalid object %q: give all objects as <resource>/<name>, or a resource followed by names", a)
			}
			out = append(out, traceTarget{k, n})
		}
	case o.apiVersion != "":
		return nil, errors.New("--api-version needs --kind")
	case len(args) < 2:
		return nil, errors.New("name and kind are required: flux trace <resource> <name>, flux trace <resource>/<name>, or flux trace <name> --kind=<kind> --api-version=<group/version>")
	default:
		for _, n := range args[1:] {
			out = append(out, traceTarget{args[0], n})
		}
	}
	return out, nil
}

func (c *Command) runTrace(ctx context.Context, targets []traceTarget, apiVersion string) error {
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	// kubectl's short names (cm, deploy, ns) resolve through discovery.
	mapper := restmapper.NewShortcutExpander(kube.Mapper, kube.Clientset.Discovery(), nil)
	var outs []string
	for _, t := range targets {
		mapping, err := resolveKind(mapper, t.kind, apiVersion)
		if err != nil {
			return err
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(mapping.GroupVersionKind)
		key := client.ObjectKey{Name: t.name}
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			key.Namespace = c.Global.Namespace
		}
		if err := kube.Client.Get(ctx, key, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("%s %s not found", mapping.GroupVersionKind.Kind, describeKey(key))
			}
			return fmt.Errorf("getting %s %s: %w", mapping.GroupVersionKind.Kind, describeKey(key), err)
		}
		out, err := (&tracer{client: kube.Client}).trace(ctx, obj)
		if err != nil {
			return err
		}
		outs = append(outs, out)
	}
	_, err = c.Out.Write([]byte(strings.Join(outs, "\n")))
	return err
}

func describeKey(k client.ObjectKey) string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

// resolveKind finds the API mapping of kind: a Flux kind directly, otherwise through the
// cluster's discovery (apiVersion narrows it to a group and version).
func resolveKind(mapper meta.RESTMapper, kind, apiVersion string) (*meta.RESTMapping, error) {
	var gv schema.GroupVersion
	if apiVersion != "" {
		var err error
		if gv, err = schema.ParseGroupVersion(apiVersion); err != nil {
			return nil, fmt.Errorf("invalid --api-version %q: %w", apiVersion, err)
		}
	} else if k, err := LookupKind("", kind); err == nil {
		gv = k.GroupVersion
		kind = k.Kind
	}
	gvk, err := mapper.KindFor(gv.WithResource(strings.ToLower(kind)))
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("the cluster serves no kind %q%s", kind, inVersion(apiVersion))
		}
		return nil, fmt.Errorf("looking up kind %q%s: %w", kind, inVersion(apiVersion), err)
	}
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("looking up kind %q%s: %w", kind, inVersion(apiVersion), err)
	}
	return m, nil
}

func inVersion(apiVersion string) string {
	if apiVersion == "" {
		return ""
	}
	return " in " + apiVersion
}
