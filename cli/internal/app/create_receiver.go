package app

import (
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// receiverFlags are create receiver's own flags.
type receiverFlags struct {
	receiverType, secretRef string
	events, resources       []string
}

func newCreateReceiverCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &receiverFlags{}
	cmd := &cobra.Command{
		Use:   "receiver [name]",
		Short: "Create or update a Receiver resource",
		Long:  "The create receiver command generates a Receiver resource.",
		Example: `  # Create a Receiver
  flux create receiver github-receiver \
	--type github \
	--event ping \
	--event push \
	--secret-ref webhook-token \
	--resource GitRepository/webapp \
	--resource HelmRepository/webapp`,
		Args: nameArg("Receiver"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rcv, err := f.receiver(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			if !cf.export {
				c.Log().Generatef("generating Receiver")
			}
			t, err := c.beginCreate(cmd, cf, rcv)
			if err != nil || t == nil {
				return err
			}
			defer t.cancel()
			k, _ := LookupKind("", apiv1.ReceiverKind)
			got, _, err := c.applyAndWait(t.ctx, t.kube, k, t.u, "Receiver")
			if err != nil {
				return err
			}
			c.Log().Successf("Receiver %s is ready", args[0])
			path, _, _ := unstructured.NestedString(got.Object, "status", "webhookPath")
			c.Log().Successf("generated webhook URL %s", path)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.receiverType, "type", "", "type of the webhook sender (generic, generic-hmac, github, gitlab, bitbucket, harbor, dockerhub, quay, gcr, nexus, acr, cdevents)")
	fs.StringVar(&f.secretRef, "secret-ref", "", "name of the secret holding the token")
	fs.StringSliceVar(&f.events, "event", nil, "event types to act on (e.g. push for github), also accepts comma-separated values")
	fs.StringSliceVar(&f.resources, "resource", nil, "resources to reconcile (<kind>/<name>), also accepts comma-separated values")
	return cmd
}

// receiver builds the Receiver the flags describe.
func (f *receiverFlags) receiver(name, ns string, cf *createFlags) (*apiv1.Receiver, error) {
	if f.receiverType == "" {
		return nil, errors.New("Receiver type is required")
	}
	if f.secretRef == "" {
		return nil, errors.New("secret ref is required")
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	rcv := &apiv1.Receiver{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiv1.GroupVersion.String(), Kind: apiv1.ReceiverKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: apiv1.ReceiverSpec{
			Type:      f.receiverType,
			Events:    f.events,
			SecretRef: &meta.LocalObjectReference{Name: f.secretRef},
		},
	}
	for _, r := range f.resources {
		kind, rname, _, err := parseKindName(r, false)
		if err != nil {
			return nil, fmt.Errorf("invalid resource '%s', must be in format <kind>/<name>: %w", r, err)
		}
		rcv.Spec.Resources = append(rcv.Spec.Resources, apiv1.ReceiverResource{
			CrossNamespaceObjectReference: apiv1.CrossNamespaceObjectReference{Kind: kind, Name: rname}})
	}
	if len(rcv.Spec.Resources) == 0 {
		return nil, errors.New("at least one resource is required")
	}
	return rcv, nil
}
