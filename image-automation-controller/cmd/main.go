// Command image-automation-controller writes the images ImagePolicies choose into the
// manifests of a Git repository, then commits and pushes (ImageUpdateAutomation).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/image-automation-controller/internal/controller"
	reflectorv1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/auth/gitprovider"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const controllerName = "image-automation-controller"

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
	f.gates()
	rt, err := manager.New(manager.Setup{
		Name:         controllerName,
		Options:      &f.runtime,
		FeatureGates: featureGates,
		AddToScheme:  []manager.AddToScheme{imagev1.AddToScheme, reflectorv1.AddToScheme, sourcev1.AddToScheme},
		Watched:      []client.Object{&imagev1.ImageUpdateAutomation{}},
	})
	if err != nil {
		return err
	}
	tokens := auth.NewTokenCache(auth.CacheOptions{MaxSize: f.tokenCache.MaxSize, MaxDuration: f.tokenCache.MaxDuration})
	r, err := controller.NewImageUpdateAutomationReconciler(rt, controller.Config{
		Options: f.controller,
		Git:     git.NewClient(git.ClientOptions{}),
		Providers: &gitprovider.Resolver{Tokens: tokens, Logins: &cloud.Logins{Cache: tokens, ObjectLevel: f.objectLevelIdentity,
			DefaultServiceAccount: f.defaultServiceAccount, Kube: rt.Manager.GetClient()}},
	})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return fmt.Errorf("ImageUpdateAutomation controller: %w", err)
	}
	rt.Log.Info("starting manager", "forcePushBranch", f.controller.ForcePushBranch, "shallowClone", f.controller.ShallowClone)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
