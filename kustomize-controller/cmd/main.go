// Command kustomize-controller reconciles Kustomization objects: it builds the manifests of a
// source artifact with kustomize and applies them to the cluster.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/kustomize-controller/internal/controller"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/kustomize"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const controllerName = "kustomize-controller"

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
		ksOpts    controller.Options
	)
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 4)
	fetchOpts.BindFlags(fs)
	ksOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	ksOpts.ApplyGates(&rtOpts)
	configs, err := ksOpts.ConfigSelector()
	if err != nil {
		return err
	}
	rt, err := manager.New(manager.Setup{
		WatchConfigs:   configs,
		Name:           controllerName,
		Options:        &rtOpts,
		FeatureGates:   controller.FeatureGates(),
		AddToScheme:    []manager.AddToScheme{sourcev1.AddToScheme, kustomizev1.AddToScheme},
		Watched:        []client.Object{&kustomizev1.Kustomization{}},
		CacheTransform: manager.HealthCacheTransform(),
	})
	if err != nil {
		return err
	}
	cache, err := artifact.NewCache(filepath.Join(os.TempDir(), controllerName+"-artifacts"),
		artifact.NewFetcher(fetchOpts, 5*time.Minute), 64)
	if err != nil {
		return err
	}
	r, err := controller.NewKustomizationReconciler(rt, controller.Config{Options: ksOpts, Artifacts: cache, Builder: kustomize.NewBuilder(256)})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return fmt.Errorf("Kustomization controller: %w", err)
	}
	rt.Log.Info("starting manager")
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
