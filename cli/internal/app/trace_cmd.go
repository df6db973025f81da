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
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// traceOptions are the flags of flux trace.
type traceOptions struct {
	kind, apiVersion string
}

func newTraceCommand(c *Command) *cobra.Command {
	o := &traceOptions{}
	cmd := &cobra.Command{
		Use:   "trace <name> | <Kind/name>",
		Short: "Trace an in-cluster object throughout the GitOps delivery pipeline",
		Long: `The trace command shows how an object reconciled by Flux CD made its way into the cluster:
the Kustomization or HelmRelease that manages it, and the source (and chart) it came from.`,
		Example: `  # Trace a Kubernetes Deployment
  flux trace -n apps podinfo --kind deployment --api-version=apps/v1

  # Trace a Kubernetes Pod and a config map
  flux trace Deployment/podinfo -n apps

  # Trace a Kubernetes global object
  flux trace redis --kind=namespace --api-version=v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runTrace(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.kind, "kind", "", "the Kubernetes object kind, e.g. Deployment")
	cmd.Flags().StringVar(&o.apiVersion, "api-version", "", "the Kubernetes object API version, e.g. 'apps/v1'")
	return cmd
}

func (c *Command) runTrace(ctx context.Context, arg string, o *traceOptions) error {
	kind, name := o.kind, arg
	if k, n, ok := strings.Cut(arg, "/"); ok {
		if o.kind != "" && !strings.EqualFold(o.kind, k) {
			return fmt.Errorf("the object %q and --kind=%s disagree", arg, o.kind)
		}
		kind, name = k, n
	}
	if kind == "" || name == "" {
		return errors.New("name and kind are required: flux trace <name> --kind=<kind> --api-version=<group/version>, or flux trace <Kind>/<name>")
	}
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	mapping, err := resolveKind(kube.Mapper, kind, o.apiVersion)
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(mapping.GroupVersionKind)
	key := client.ObjectKey{Name: name}
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
	_, err = c.Out.Write([]byte(out))
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
