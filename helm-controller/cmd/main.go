// Command helm-controller reconciles HelmRelease objects: it installs, upgrades, tests,
// rolls back and uninstalls Helm releases with the Helm SDK.
package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/controller"
	"gotk.dev/helm-controller/internal/kube"
	"gotk.dev/helm-controller/internal/oomwatch"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const controllerName = "helm-controller"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var (
		rtOpts    options.Runtime
		fetchOpts options.HTTPFetch
		hrOpts    controller.Options
	)
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 4)
	fetchOpts.BindFlags(fs)
	hrOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := hrOpts.Validate(&rtOpts); err != nil {
		return err
	}
	// Helm writes objects as this field manager; it keeps it in a process-wide variable.
	kube.UseFieldManager(kube.DefaultFieldManager)
	configs, err := controller.ConfigSelector(hrOpts)
	if err != nil {
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:           controllerName,
		Options:        &rtOpts,
		FeatureGates:   controller.FeatureGates(),
		AddToScheme:    []manager.AddToScheme{sourcev1.AddToScheme, v2.AddToScheme},
		Watched:        []client.Object{&v2.HelmRelease{}},
		CacheTransform: manager.HealthCacheTransform(),
		WatchConfigs:   configs,
	})
	if err != nil {
		return err
	}
	cache, err := artifact.NewCache(filepath.Join(os.TempDir(), controllerName+"-artifacts"), &artifact.Fetcher{
		Retries: fetchOpts.Retries,
		Client:  &http.Client{Timeout: hrOpts.HTTPTimeout},
	}, 64)
	if err != nil {
		return err
	}
	r, err := controller.NewHelmReleaseReconciler(rt, controller.Config{Options: hrOpts, Artifacts: cache})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return fmt.Errorf("HelmRelease controller: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	if hrOpts.Gates[controller.OOMWatch] {
		if ctx, err = oomwatch.Context(ctx, oomwatch.Options{Interval: hrOpts.OOMWatchInterval, Threshold: hrOpts.OOMWatchMemoryThreshold,
			MaxPath: hrOpts.OOMWatchMaxMemoryPath, CurrentPath: hrOpts.OOMWatchCurrentMemoryPath, Log: rt.Log.WithName("oomwatch")}); err != nil {
			return err
		}
	}
	rt.Log.Info("starting manager")
	return rt.Manager.Start(ctx)
}
