// Command source-controller reconciles GitRepository and OCIRepository objects into
// artifacts and serves them over HTTP.
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
	var (
		rtOpts      options.Runtime
		storageOpts options.Storage
		gitOpts     gitFlags
	)
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 2)
	storageOpts.BindFlags(fs)
	gitOpts.bind(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:         controllerName,
		Options:      &rtOpts,
		FeatureGates: controller.FeatureGates(),
		AddToScheme:  []manager.AddToScheme{sourcev1.AddToScheme},
		Watched:      []client.Object{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{}},
	})
	if err != nil {
		return err
	}
	storage, err := newStorage(rt, storageOpts)
	if err != nil {
		return err
	}
	gitRepos, err := controller.NewGitRepositoryReconciler(rt, controller.GitConfig{
		Storage: storage, Git: gitOpts.client(), MaxArtifactSize: gitOpts.maxArtifactSize, MaxFileSize: gitOpts.maxGitFileSize,
		AlwaysClone: !rtOpts.Enabled(controller.FeatureGates(), "OptimizedGitClones")})
	if err != nil {
		return err
	}
	if err := gitRepos.SetupWithManager(rt); err != nil {
		return fmt.Errorf("GitRepository controller: %w", err)
	}
	ociRepos, err := controller.NewOCIRepositoryReconciler(rt, controller.OCIConfig{
		Storage: storage, MaxArtifactSize: gitOpts.maxArtifactSize, UserAgent: controllerName})
	if err != nil {
		return err
	}
	if err := ociRepos.SetupWithManager(rt); err != nil {
		return fmt.Errorf("OCIRepository controller: %w", err)
	}
	rt.Log.Info("starting manager", "storage", storageOpts.Path, "storageAddr", storageOpts.Addr)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
