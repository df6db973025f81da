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
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/indexcache"
)

const controllerName = "source-controller"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// flags are the command line: upstream source-controller's flag names and defaults.
type flags struct {
	runtime         options.Runtime
	storage         options.Storage
	maxArtifactSize int64
	helmLimits      helm.Limits
	helmCache       indexcache.Options
}

func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	f.runtime.BindFlags(fs, 2)
	f.storage.BindFlags(fs)
	fs.Int64Var(&f.maxArtifactSize, "artifact-max-size", 0, "The maximum size in bytes of the files packed into an artifact, and of an OCI layer extracted into one (0 means no limit).")
	f.helmLimits.BindFlags(fs)
	f.helmCache.BindFlags(fs)
	return f, fs.Parse(args)
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
		Name:        controllerName,
		Options:     &f.runtime,
		AddToScheme: []manager.AddToScheme{sourcev1.AddToScheme},
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
