// Command kustomize-controller reconciles Kustomization objects: it builds the manifests of a
// source artifact with kustomize and applies them to the cluster.
package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
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

// featureGates are the gates this controller knows, with their defaults.
var featureGates = map[string]bool{}

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
	fs.BoolVar(&ksOpts.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "When set to true, references between custom resources are allowed only if the reference and the referee are in the same namespace.")
	fs.BoolVar(&ksOpts.NoRemoteBases, "no-remote-bases", false, "Disallow remote bases usage in Kustomize overlays. When this flag is enabled, all resources must refer to local files included in the source artifact.")
	fs.StringVar(&ksOpts.DefaultServiceAccount, "default-service-account", "", "Default service account used for impersonation.")
	fs.BoolVar(&ksOpts.InsecureKubeconfigExec, "insecure-kubeconfig-exec", false, "Allow use of the user.exec section in kubeconfigs provided for remote apply.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := rtOpts.Validate(featureGates); err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, sourcev1.AddToScheme, kustomizev1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	rt, err := manager.New(manager.Setup{
		Name:           controllerName,
		Scheme:         scheme,
		Options:        &rtOpts,
		Watched:        []client.Object{&kustomizev1.Kustomization{}},
		CacheTransform: manager.HealthCacheTransform(),
	})
	if err != nil {
		return err
	}
	cache, err := artifact.NewCache(filepath.Join(os.TempDir(), controllerName+"-artifacts"), &artifact.Fetcher{
		Retries: fetchOpts.Retries,
		Client:  &http.Client{Timeout: 5 * time.Minute},
	}, 64)
	if err != nil {
		return err
	}
	clients, err := controller.NewClientFactory(rt.Manager.GetConfig(), scheme, rt.Manager.GetRESTMapper(),
		ksOpts.DefaultServiceAccount, ksOpts.InsecureKubeconfigExec)
	if err != nil {
		return err
	}
	if err := (&controller.KustomizationReconciler{
		Client:    rt.Manager.GetClient(),
		Options:   ksOpts,
		Artifacts: cache,
		Builder:   kustomize.NewBuilder(256),
		Clients:   clients,
		Health:    controller.NewHealthTracker(),
	}).SetupWithManager(rt); err != nil {
		return fmt.Errorf("Kustomization controller: %w", err)
	}
	rt.Log.Info("starting manager")
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
