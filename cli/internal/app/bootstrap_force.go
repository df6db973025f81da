package app

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// managedByLabel names the tool that installed an object (Helm sets it to "Helm").
const managedByLabel = "app.kubernetes.io/managed-by"

// confirmTakeOver asks before bootstrap takes over a Flux installed by another tool (a Helm
// chart, say), which the Kustomization CRD's managed-by label names. --force skips the
// question, as upstream.
func (c *Command) confirmTakeOver(ctx context.Context, kube *Kube, force bool) error {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	err := kube.Client.Get(ctx, client.ObjectKey{Name: "kustomizations.kustomize.toolkit.fluxcd.io"}, crd)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("cluster info unavailable: %w", err)
	}
	tool := crd.GetLabels()[managedByLabel]
	if tool == "" || tool == fieldManager || force {
		return nil
	}
	ok, err := c.confirm(fmt.Sprintf("Flux is installed and managed by %s: are you sure you want to override the %s installation", tool, tool))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("bootstrap cancelled: Flux is managed by %s (pass --force to take it over)", tool)
	}
	return nil
}
