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

	"gotk.dev/pkg/git"
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
		rtOpts          options.Runtime
		storageOpts     options.Storage
		maxArtifactSize int64
		maxGitFileSize  int64
	)
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 2)
	storageOpts.BindFlags(fs)
	fs.Int64Var(&maxArtifactSize, "artifact-max-size", 100<<20, "The maximum size in bytes of the files packed into an artifact, and of an OCI layer extracted into one (0 means no limit).")
	fs.Int64Var(&maxGitFileSize, "git-max-file-size", 100<<20, "The largest file, ignored or not, a Git repository may hold; a clone needs up to this much memory (0 means no limit).")
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
		Storage: storage, Git: git.NewClient(git.ClientOptions{}), MaxArtifactSize: maxArtifactSize, MaxFileSize: maxGitFileSize,
		AlwaysClone: !rtOpts.Enabled(controller.FeatureGates(), "OptimizedGitClones")})
	if err != nil {
		return err
	}
	if err := gitRepos.SetupWithManager(rt); err != nil {
		return fmt.Errorf("GitRepository controller: %w", err)
	}
	ociRepos, err := controller.NewOCIRepositoryReconciler(rt, controller.OCIConfig{
		Storage: storage, MaxArtifactSize: maxArtifactSize, UserAgent: controllerName})
	if err != nil {
		return err
	}
	if err := ociRepos.SetupWithManager(rt); err != nil {
		return fmt.Errorf("OCIRepository controller: %w", err)
	}
	rt.Log.Info("starting manager", "storage", storageOpts.Path, "storageAddr", storageOpts.Addr)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
