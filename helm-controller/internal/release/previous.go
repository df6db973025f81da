package release

import (
	"context"
	"fmt"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/action"
	"gotk.dev/helm-controller/internal/kube"
)

// UninstallPrevious uninstalls the release status.history describes, when TargetChanged
// reported that the HelmRelease now asks for another release name, target namespace,
// storage namespace or chart. factory must be built for the previous release: its target
// namespace (the history's) and status.storageNamespace. Afterwards the history and
// status.storageNamespace are cleared, so the new release is installed from scratch.
func UninstallPrevious(ctx context.Context, factory *kube.Factory, obj *v2.HelmRelease, opts action.Options) error {
	cur := obj.Status.History.Latest()
	if cur == nil {
		return nil
	}
	cfg, err := factory.Build(nil)
	if err != nil {
		return err
	}
	if _, err := action.Uninstall(ctx, cfg, obj, cur.Name, opts); err != nil {
		return fmt.Errorf("uninstall previous release %s from storage namespace %s: %w", cur.FullReleaseName(), factory.StorageNamespace(), err)
	}
	obj.Status.History = nil
	obj.Status.StorageNamespace = ""
	return nil
}
