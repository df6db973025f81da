package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// createFlags are the flags every flux create subcommand inherits.
type createFlags struct {
	interval time.Duration
	export   bool
	labels   []string
}

func newCreateCommand(c *Command) *cobra.Command {
	f := &createFlags{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create or update sources and resources",
		Long:  "The create sub-commands generate sources and resources, apply them server-side and wait for them to be ready.",
	}
	pf := cmd.PersistentFlags()
	pf.DurationVar(&f.interval, "interval", time.Minute, "source sync interval")
	pf.BoolVar(&f.export, "export", false, "export in YAML format to stdout")
	pf.StringSliceVar(&f.labels, "label", nil, "set labels on the resource (can specify multiple labels with commas: label1=value1,label2=value2)")

	source := &cobra.Command{Use: "source", Short: "Create or update sources", Args: cobra.ArbitraryArgs, RunE: unknownWordRunE("source")}
	sf := &sourceFlags{}
	source.PersistentFlags().DurationVar(&sf.fetchTimeout, "fetch-timeout", 0,
		"set a timeout for fetch operations performed by source-controller (e.g. 'git clone' or 'helm repo update')")
	source.AddCommand(newCreateSourceGitCommand(c, f, sf), newCreateSourceOCICommand(c, f, sf),
		newCreateSourceHelmCommand(c, f, sf), newCreateSourceChartCommand(c, f), newCreateSourceBucketCommand(c, f, sf))
	secret := &cobra.Command{Use: "secret", Short: "Create or update Kubernetes secrets", Args: cobra.ArbitraryArgs, RunE: unknownWordRunE("secret")}
	secret.AddCommand(newCreateSecretGitCommand(c, f), newCreateSecretOCICommand(c, f), newCreateSecretReceiverCommand(c, f),
		newCreateSecretHelmCommand(c, f), newCreateSecretTLSCommand(c, f), newCreateSecretGitHubAppCommand(c, f),
		newCreateSecretNotationCommand(c, f))
	cmd.AddCommand(source, secret, newCreateKustomizationCommand(c, f), newCreateHelmReleaseCommand(c, f), newCreateImageCommand(c, f),
		newCreateAlertCommand(c, f), newCreateAlertProviderCommand(c, f), newCreateReceiverCommand(c, f), newCreateTenantCommand(c, f))
	cmd.Args, cmd.RunE = cobra.ArbitraryArgs, unknownWordRunE("")
	return cmd
}

// sourceFlags are the flags every flux create source subcommand inherits.
type sourceFlags struct {
	// fetchTimeout is spec.timeout of the sources that have one (0 leaves it unset).
	fetchTimeout time.Duration
}

// nameArg checks the one NAME argument of a create command.
func nameArg(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 || args[0] == "" {
			return fmt.Errorf("%s name is required", what)
		}
		if errs := validation.IsDNS1123Subdomain(args[0]); len(errs) > 0 {
			return fmt.Errorf("invalid %s name %q: %s", what, args[0], strings.Join(errs, "; "))
		}
		return nil
	}
}

// parseLabels turns --label key=value pairs into labels, validating both sides.
func parseLabels(in []string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, l := range in {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid label %q: must be key=value", l)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label value %q: %s", v, strings.Join(errs, "; "))
		}
		out[k] = v
	}
	return out, nil
}

// toUnstructured converts a typed object (TypeMeta set) into what create applies and
// exports: no status, no creationTimestamp.
func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	return &unstructured.Unstructured{Object: m}, nil
}

// applyObject applies u server-side as flux, taking over conflicting fields, and says
// whether it existed before (created or updated).
func applyObject(ctx context.Context, kube *Kube, u *unstructured.Unstructured) (created bool, err error) {
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(u.GroupVersionKind())
	err = kube.Client.Get(ctx, client.ObjectKeyFromObject(u), existing)
	switch {
	case apierrors.IsNotFound(err):
		created = true
	case err != nil:
		return false, fmt.Errorf("get %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	if err := kube.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("apply %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return created, nil
}

// createdWord is "created" or "updated".
func createdWord(created bool) string {
	if created {
		return "created"
	}
	return "updated"
}

// applyAndWait is the common end of flux create for sources and Kustomizations: apply,
// report created or updated, wait until Ready within --timeout. applied says whether the
// object reached the cluster (a wait can fail after it did).
func (c *Command) applyAndWait(ctx context.Context, kube *Kube, k Kind, u *unstructured.Unstructured, what string) (got *unstructured.Unstructured, applied bool, err error) {
	log := c.Log()
	log.Actionf("applying %s", what)
	created, err := applyObject(ctx, kube, u)
	if err != nil {
		return nil, false, err
	}
	log.Successf("%s %s", what, createdWord(created))
	log.Waitingf("waiting for %s reconciliation", what)
	got, err = c.waitReady(ctx, kube, k, u.GetNamespace(), u.GetName())
	return got, true, err
}

// createTarget is a new object on its way to the cluster.
type createTarget struct {
	u      *unstructured.Unstructured
	ctx    context.Context
	cancel context.CancelFunc
	kube   *Kube
}

// beginCreate is the common start of flux create: convert obj, print it for --export (and
// return nil: nothing else to do), or connect to the cluster within --timeout. Callers defer
// cancel.
func (c *Command) beginCreate(cmd *cobra.Command, cf *createFlags, obj runtime.Object) (*createTarget, error) {
	u, err := toUnstructured(obj)
	if err != nil {
		return nil, err
	}
	if done, err := c.exportCreated(cf, u); done {
		return nil, err
	}
	ctx, cancel := c.withTimeout(cmd.Context())
	kube, _, err := c.connect(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	return &createTarget{u: u, ctx: ctx, cancel: cancel, kube: kube}, nil
}

// exportCreated prints the objects for --export and reports whether it did.
func (c *Command) exportCreated(f *createFlags, objs ...*unstructured.Unstructured) (bool, error) {
	if !f.export {
		return false, nil
	}
	for _, u := range objs {
		if err := printExport(c.Out, u); err != nil {
			return true, err
		}
	}
	return true, nil
}
