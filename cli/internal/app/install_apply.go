package app

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/pkg/manifests"
)

// install applies objs (see kube.Client.ApplyComponents), printing what happened to each object, and
// waits for the controllers to be ready.
func (c *Command) install(ctx context.Context, objs []*unstructured.Unstructured, opts manifests.Options) error {
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	log := c.Log()
	log.Actionf("installing components in %s namespace", opts.Namespace)
	deadline := time.Now().Add(c.Global.Timeout)
	deployments, err := kube.ApplyComponents(ctx, log, objs, deadline, func(u *unstructured.Unstructured, action string) {
		fmt.Fprintf(c.Out, "%s %s\n", manifests.ID(u), action)
	})
	if err != nil {
		return err
	}
	log.Successf("install completed")
	log.Waitingf("verifying installation")
	if err := kube.WaitDeployments(ctx, log, opts.Namespace, deployments, time.Until(deadline), func(d *appsv1.Deployment) {
		log.Successf("%s: deployment ready", d.Name)
	}); err != nil {
		return err
	}
	log.Successf("install finished")
	return nil
}
