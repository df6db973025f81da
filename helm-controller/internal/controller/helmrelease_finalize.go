package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/action"
	"gotk.dev/pkg/events"
	"gotk.dev/pkg/reconcile"
)

// finalize uninstalls the release of a deleted HelmRelease (spec.uninstall's settings) and
// deletes its HelmChart, as upstream does; a suspended HelmRelease leaves both alone. When
// the release cannot be reached any more (its kubeconfig Secret or impersonated service
// account is gone, e.g. with a namespace being deleted), the uninstall is skipped rather
// than blocking the deletion forever.
func (r *HelmReleaseReconciler) finalize(ctx context.Context, obj *v2.HelmRelease) error {
	r.health.Done(obj)
	r.written.forget(obj.UID)
	if obj.Spec.Suspend {
		return nil
	}
	if err := r.uninstallRelease(ctx, obj); err != nil {
		return err
	}
	return r.deleteHelmChart(ctx, obj)
}

func (r *HelmReleaseReconciler) uninstallRelease(ctx context.Context, obj *v2.HelmRelease) error {
	log := ctrl.LoggerFrom(ctx)
	if obj.Status.StorageNamespace == "" {
		log.Info("skipping Helm release uninstallation: no storage namespace recorded (never installed)")
		return nil
	}
	target, err := r.clusters.For(ctx, r.Client, clusterRequest(obj))
	if err != nil {
		if apierrors.IsNotFound(err) {
			log.Error(err, "skipping Helm release uninstallation")
			return nil
		}
		return reconcile.Fail(v2.UninstallFailedReason, fmt.Errorf("failed to build the client to uninstall the release: %w", err))
	}
	if sa := serviceAccountOf(obj, r.opts.Cluster.DefaultServiceAccount); sa != "" && obj.Spec.KubeConfig == nil {
		err := r.apiReader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: sa}, &corev1.ServiceAccount{})
		if apierrors.IsNotFound(err) {
			log.Error(err, "skipping Helm release uninstallation: the impersonated ServiceAccount is gone")
			return nil
		}
		if err != nil {
			return reconcile.Fail(v2.UninstallFailedReason, fmt.Errorf("failed to confirm ServiceAccount '%s' can be used to uninstall release: %w", sa, err))
		}
	}
	name, ns := obj.GetReleaseName(), obj.GetReleaseNamespace()
	if cur := obj.Status.History.Latest(); cur != nil {
		name, ns = cur.Name, cur.Namespace
	}
	cfg, err := r.helm.get(ctx, target, ns, obj.Status.StorageNamespace, obj.UsePersistentClient()).Build(nil)
	if err != nil {
		return reconcile.Fail(v2.UninstallFailedReason, err)
	}
	resp, err := action.Uninstall(ctx, cfg, obj, name, action.Options{})
	full := fmt.Sprintf("%s/%s", ns, name)
	if err != nil {
		msg := fmt.Sprintf("Helm uninstall failed for release %s: %s", full, err)
		r.events.Event(obj, events.SeverityError, v2.UninstallFailedReason, msg, failureEventMetadata(obj))
		return &reconcile.Generic{Reason: v2.UninstallFailedReason, Err: fmt.Errorf("%s", msg), Quiet: true}
	}
	if resp != nil && resp.Release != nil {
		msg := fmt.Sprintf("Helm uninstall succeeded for release %s.v%d", full, resp.Release.Version)
		if c := resp.Release.Chart; c != nil && c.Metadata != nil {
			msg += fmt.Sprintf(" with chart %s@%s", c.Metadata.Name, c.Metadata.Version)
		}
		r.events.Event(obj, events.SeverityInfo, v2.UninstallSucceededReason, msg, failureEventMetadata(obj))
	}
	obj.Status.StorageNamespace = ""
	return nil
}

// serviceAccountOf is the service account a HelmRelease acts as ("" for the controller).
func serviceAccountOf(obj *v2.HelmRelease, def string) string {
	if obj.Spec.ServiceAccountName != "" {
		return obj.Spec.ServiceAccountName
	}
	return def
}
