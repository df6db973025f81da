// Command image-reflector-controller scans container image repositories for tags
// (ImageRepository) and chooses the latest image for each ImagePolicy.
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

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/controller"
	"gotk.dev/image-reflector-controller/internal/tagstore"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"
)

const controllerName = "image-reflector-controller"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var f flags
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	f.bind(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:         controllerName,
		Options:      &f.runtime,
		FeatureGates: featureGates,
		AddToScheme:  []manager.AddToScheme{imagev1.AddToScheme},
		Watched:      []client.Object{&imagev1.ImageRepository{}, &imagev1.ImagePolicy{}},
	})
	if err != nil {
		return err
	}
	// A restarting pod may still hold the file for a moment.
	store, err := tagstore.Open(filepath.Join(f.storagePath, "tags.db"), 30*time.Second)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg := controller.Config{Store: store, NoCrossNamespaceRefs: f.noCrossNamespaceRefs, UserAgent: controllerName,
		CloudLogins: &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: f.tokenCache.MaxSize, MaxDuration: f.tokenCache.MaxDuration}),
			ObjectLevel: f.runtime.Enabled(featureGates, "ObjectLevelWorkloadIdentity"), DefaultServiceAccount: f.defaultServiceAccount,
			Kube: rt.Manager.GetClient()}}
	repos, err := controller.NewImageRepositoryReconciler(rt, cfg)
	if err != nil {
		return err
	}
	if err := repos.SetupWithManager(rt); err != nil {
		return fmt.Errorf("ImageRepository controller: %w", err)
	}
	policies, err := controller.NewImagePolicyReconciler(rt, cfg)
	if err != nil {
		return err
	}
	if err := policies.SetupWithManager(rt); err != nil {
		return fmt.Errorf("ImagePolicy controller: %w", err)
	}
	rt.Log.Info("starting manager", "storage", f.storagePath)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
