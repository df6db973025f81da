package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"gotk.dev/notification-controller/api/v1beta3"
)

// alertFlags are create alert's own flags.
type alertFlags struct {
	providerRef   string
	eventSeverity string
	eventSources  []string
}

func newCreateAlertCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &alertFlags{}
	cmd := &cobra.Command{
		Use:   "alert [name]",
		Short: "Create or update a Alert resource",
		Long:  "The create alert command generates a Alert resource.",
		Example: `  # Create an Alert for kustomization events
  flux create alert \
  --event-severity info \
  --event-source Kustomization/flux-system \
  --provider-ref slack \
  flux-system`,
		Args: nameArg("Alert"),
		RunE: func(cmd *cobra.Command, args []string) error {
			alert, err := f.alert(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			return c.createStatic(cmd, cf, alert, v1beta3.AlertKind, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.providerRef, "provider-ref", "", "reference to provider")
	fs.StringVar(&f.eventSeverity, "event-severity", "", "severity of events to send alerts for")
	fs.StringSliceVar(&f.eventSources, "event-source", nil, "sources that should generate alerts (<kind>/<name>), also accepts comma-separated values")
	return cmd
}

// alert builds the Alert the flags describe.
func (f *alertFlags) alert(name, ns string, cf *createFlags) (*v1beta3.Alert, error) {
	if f.providerRef == "" {
		return nil, errors.New("provider ref is required")
	}
	switch f.eventSeverity {
	case "", v1beta3.EventSeverityInfo, v1beta3.EventSeverityError:
	default:
		return nil, fmt.Errorf("invalid --event-severity %q: can be info or error", f.eventSeverity)
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	alert := &v1beta3.Alert{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta3.GroupVersion.String(), Kind: v1beta3.AlertKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: v1beta3.AlertSpec{
			ProviderRef:   meta.LocalObjectReference{Name: f.providerRef},
			EventSeverity: f.eventSeverity,
		},
	}
	for _, s := range f.eventSources {
		kind, name, namespace, err := parseKindName(s, true)
		if err != nil {
			return nil, fmt.Errorf("invalid event source '%s', must be in format <kind>/<name>: %w", s, err)
		}
		alert.Spec.EventSources = append(alert.Spec.EventSources,
			v1beta3.CrossNamespaceObjectReference{Kind: kind, Name: name, Namespace: namespace})
	}
	if len(alert.Spec.EventSources) == 0 {
		return nil, errors.New("at least one event source is required")
	}
	return alert, nil
}

// parseKindName reads "<kind>/<name>" and, with withNamespace, "<kind>/<name>.<namespace>".
// A kind flux knows is spelt as the API spells it (kustomization -> Kustomization); another
// is passed on for the API server to judge.
func parseKindName(s string, withNamespace bool) (kind, name, namespace string, err error) {
	kind, rest, ok := strings.Cut(s, "/")
	if !ok || kind == "" || rest == "" {
		return "", "", "", errors.New("a kind and a name are required")
	}
	if k, err := LookupKind("", kind); err == nil {
		kind = k.Kind
	}
	name = rest
	if withNamespace {
		name, namespace, _ = strings.Cut(rest, ".")
	}
	if name == "" {
		return "", "", "", errors.New("a name is required")
	}
	return kind, name, namespace, nil
}

// createStatic is the end of flux create for the static kinds (Alert, Provider): apply,
// then confirm the object is in place (it has no status to wait for).
func (c *Command) createStatic(cmd *cobra.Command, cf *createFlags, obj runtime.Object, kind, name string) error {
	if !cf.export {
		c.Log().Generatef("generating %s", kind)
	}
	t, err := c.beginCreate(cmd, cf, obj)
	if err != nil || t == nil {
		return err
	}
	defer t.cancel()
	k, err := LookupKind("", kind)
	if err != nil {
		return err
	}
	log := c.Log()
	log.Actionf("applying %s", kind)
	created, err := applyObject(t.ctx, t.kube, t.u)
	if err != nil {
		return err
	}
	log.Successf("%s %s", kind, createdWord(created))
	log.Waitingf("waiting for %s reconciliation", kind)
	if _, err := waitStatic(t.ctx, t.kube, k, t.u); err != nil {
		return err
	}
	log.Successf("%s %s is ready", kind, name)
	return nil
}

// waitStatic reads a static object back: the API server has it, as applied.
func waitStatic(ctx context.Context, kube *Kube, k Kind, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return getObject(ctx, kube, k, u.GetNamespace(), u.GetName())
}
