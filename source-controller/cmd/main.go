// Command source-controller reconciles the sources of source.toolkit.fluxcd.io/v1
// (GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket) into artifacts and serves
// them over HTTP.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/manager"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/controller"
)

const controllerName = "source-controller"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	f, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:         controllerName,
		Options:      &f.runtime,
		FeatureGates: controller.FeatureGates(),
		AddToScheme:  []manager.AddToScheme{sourcev1.AddToScheme},
		Watched: []client.Object{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{},
			&sourcev1.HelmRepository{}, &sourcev1.HelmChart{}, &sourcev1.Bucket{}},
	})
	if err != nil {
		return err
	}
	storage, err := newStorage(rt, f.storage)
	if err != nil {
		return err
	}
	if err := setupReconcilers(rt, storage, f); err != nil {
		return err
	}
	rt.Log.Info("starting manager", "storage", f.storage.Path, "storageAddr", f.storage.Addr)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
