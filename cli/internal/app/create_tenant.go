package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// tenantLabel marks every object flux create tenant generates with the tenant's name, as
// upstream does (and as `flux bootstrap`'s multi-tenancy examples select on).
const tenantLabel = "toolkit.fluxcd.io/tenant"

// tenantFlags are create tenant's own flags.
type tenantFlags struct {
	namespaces  []string
	clusterRole string
}

// tenantObjects are the objects of one tenant namespace: the namespace, the tenant's
// service account in it and the role binding granting the cluster role there to that
// account and to the user the controllers impersonate (gotk:<namespace>:reconciler).
type tenantObjects struct {
	namespace   *corev1.Namespace
	account     *corev1.ServiceAccount
	roleBinding *rbacv1.RoleBinding
}

func newCreateTenantCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &tenantFlags{}
	cmd := &cobra.Command{
		Use:   "tenant [name]",
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
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return errors.New("tenant name is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := f.tenant(args[0], cf)
			if err != nil {
				return err
			}
			if cf.export {
				return exportTenant(c, objs)
			}
			ctx, cancel := c.withTimeout(cmd.Context())
			defer cancel()
			kube, _, err := c.connect(ctx)
			if err != nil {
				return err
			}
			log := c.Log()
			for _, o := range objs {
				log.Actionf("applying namespace %s", o.namespace.Name)
				if err := applyTyped(ctx, kube, o.namespace); err != nil {
					return err
				}
				log.Actionf("applying service account %s", o.account.Name)
				if err := applyTyped(ctx, kube, o.account); err != nil {
					return err
				}
				log.Actionf("applying role binding %s", o.roleBinding.Name)
				if err := applyRoleBinding(ctx, kube, o.roleBinding); err != nil {
					return err
				}
			}
			log.Successf("tenant setup completed")
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&f.namespaces, "with-namespace", nil, "namespace belonging to this tenant")
	fs.StringVar(&f.clusterRole, "cluster-role", "cluster-admin", "cluster role of the tenant role binding")
	return cmd
}

// tenant builds the objects of every --with-namespace.
func (f *tenantFlags) tenant(name string, cf *createFlags) ([]tenantObjects, error) {
	// The name is the service account's name and a label value.
	if errs := append(validation.IsDNS1123Subdomain(name), validation.IsValidLabelValue(name)...); len(errs) > 0 {
		return nil, fmt.Errorf("invalid tenant name %q: %s", name, strings.Join(errs, "; "))
	}
	if f.clusterRole == "" {
		return nil, errors.New("--cluster-role is required")
	}
	if len(f.namespaces) == 0 {
		return nil, errors.New("--with-namespace is required")
	}
	var out []tenantObjects
	seen := map[string]bool{}
	for _, ns := range f.namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("invalid namespace %q: %s", ns, strings.Join(errs, "; "))
		}
		if seen[ns] {
			continue
		}
		seen[ns] = true
		labels, err := parseLabels(cf.labels)
		if err != nil {
			return nil, err
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[tenantLabel] = name
		out = append(out, tenantObjects{
			namespace: &corev1.Namespace{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
				ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels},
			},
			account: &corev1.ServiceAccount{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			},
			roleBinding: &rbacv1.RoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
				ObjectMeta: metav1.ObjectMeta{Name: name + "-reconciler", Namespace: ns, Labels: labels},
				Subjects: []rbacv1.Subject{
					{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "gotk:" + ns + ":reconciler"},
					{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns},
				},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: f.clusterRole},
			},
		})
	}
	return out, nil
}

// exportTenant prints the namespace, service account and role binding of each namespace as
// YAML documents.
func exportTenant(c *Command, objs []tenantObjects) error {
	for _, o := range objs {
		for _, obj := range []client.Object{o.namespace, o.account, o.roleBinding} {
			u, err := toUnstructured(obj)
			if err != nil {
				return err
			}
			if spec, ok := u.Object["spec"].(map[string]any); ok && len(spec) == 0 {
				delete(u.Object, "spec") // a Namespace's empty spec is noise
			}
			data, err := yaml.Marshal(u.Object)
			if err != nil {
				return fmt.Errorf("marshal %s %s: %w", u.GetKind(), u.GetName(), err)
			}
			if _, err := fmt.Fprintf(c.Out, "---\n%s\n", data); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyTyped server-side applies a typed object (TypeMeta set) as flux.
func applyTyped(ctx context.Context, kube *Kube, obj client.Object) error {
	u, err := toUnstructured(obj)
	if err != nil {
		return err
	}
	_, err = applyObject(ctx, kube, u)
	return err
}

// applyRoleBinding applies rb; a role binding's roleRef cannot change, so one bound to
// another role is deleted and created again (as upstream does).
func applyRoleBinding(ctx context.Context, kube *Kube, rb *rbacv1.RoleBinding) error {
	var existing rbacv1.RoleBinding
	err := kube.Client.Get(ctx, client.ObjectKeyFromObject(rb), &existing)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get RoleBinding %s/%s: %w", rb.Namespace, rb.Name, err)
	case !apiequality.Semantic.DeepEqual(existing.RoleRef, rb.RoleRef):
		if err := kube.Client.Delete(ctx, &existing); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replace RoleBinding %s/%s bound to %s %s: %w", rb.Namespace, rb.Name, existing.RoleRef.Kind, existing.RoleRef.Name, err)
		}
	}
	return applyTyped(ctx, kube, rb)
}
