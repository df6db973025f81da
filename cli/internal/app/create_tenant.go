package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// The tenant's label and role binding names, as upstream: kustomize-controller and
// helm-controller impersonate gotk:<namespace>:reconciler or the tenant's service account.
const (
	tenantLabel       = "toolkit.fluxcd.io/tenant"
	tenantRoleBinding = "gotk-reconciler"
)

func newCreateTenantCommand(c *Command, cf *createFlags) *cobra.Command {
	var namespaces []string
	var clusterRole string
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create or update a tenant",
		Long: `The create tenant command generates namespaces, service accounts and role bindings to limit the
reconcilers scope to the tenant namespaces.`,
		Example: `  # Create a tenant with access to a namespace
  flux create tenant dev-team \
    --with-namespace=frontend \
    --label=environment=dev

  # Generate tenant namespaces and role bindings in YAML format
  flux create tenant dev-team \
    --with-namespace=frontend \
    --with-namespace=backend \
    --export > dev-team.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("tenant name is required")
			}
			objs, err := tenantObjects(args[0], namespaces, clusterRole, cf.labels)
			if err != nil {
				return err
			}
			if cf.export {
				// Whole objects: a RoleBinding's roleRef and subjects are not under spec.
				for _, u := range objs {
					data, err := yaml.Marshal(u.Object)
					if err != nil {
						return err
					}
					fmt.Fprintf(c.Out, "---\n%s\n", data)
				}
				return nil
			}
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			for _, u := range objs {
				c.Log().Actionf("applying %s %s", strings.ToLower(u.GetKind()), describeKey(client.ObjectKeyFromObject(u)))
				if _, err := kube.Apply(ctx, u); err != nil {
					return err
				}
			}
			c.Log().Successf("tenant setup completed")
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&namespaces, "with-namespace", nil, "namespace belonging to this tenant")
	cmd.Flags().StringVar(&clusterRole, "cluster-role", "cluster-admin", "cluster role of the tenant role binding")
	return cmd
}

// tenantObjects are, for each namespace: the Namespace, the tenant's ServiceAccount and the
// gotk-reconciler RoleBinding granting clusterRole to both the service account and the
// gotk:<namespace>:reconciler user, all labelled with the tenant.
func tenantObjects(tenant string, namespaces []string, clusterRole string, labelFlags []string) ([]*unstructured.Unstructured, error) {
	if errs := validation.IsQualifiedName(tenant); len(errs) > 0 {
		return nil, fmt.Errorf("invalid tenant name '%s': %s", tenant, strings.Join(errs, "; "))
	}
	if clusterRole == "" {
		return nil, errors.New("--cluster-role is required")
	}
	if len(namespaces) == 0 {
		return nil, errors.New("--with-namespace is required")
	}
	labels, err := parseLabels(labelFlags)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, ns := range namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("invalid namespace '%s': %s", ns, strings.Join(errs, "; "))
		}
		meta := func(name, namespace string) map[string]any {
			l := map[string]any{tenantLabel: tenant}
			for k, v := range labels {
				l[k] = v
			}
			m := map[string]any{"name": name, "labels": l}
			if namespace != "" {
				m["namespace"] = namespace
			}
			return m
		}
		out = append(out,
			&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, "")}},
			&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(tenant, ns)}},
			&unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(tenantRoleBinding, ns),
				"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": clusterRole},
				"subjects": []any{
					map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "gotk:" + ns + ":reconciler"},
					map[string]any{"kind": "ServiceAccount", "name": tenant, "namespace": ns},
				},
			}})
	}
	return out, nil
}
