// Command summary-controller runs the ArtifactSummary controller: a third-party controller
// built on gotk's SDK, with the flags every Flux controller has.
package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/examples/summary/api/v1alpha1"
	"gotk.dev/examples/summary/controller"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var rtOpts options.Runtime
	var fetchOpts options.HTTPFetch
	fs := pflag.NewFlagSet("summary-controller", pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 2)
	fetchOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:        "summary-controller",
		Options:     &rtOpts,
		AddToScheme: []manager.AddToScheme{v1alpha1.AddToScheme},
		Watched:     []client.Object{&v1alpha1.ArtifactSummary{}},
	})
	if err != nil {
		return err
	}
	cache, err := artifact.NewCache(filepath.Join(os.TempDir(), "summary-controller-artifacts"),
		&artifact.Fetcher{Retries: fetchOpts.Retries, Client: &http.Client{Timeout: time.Minute}}, 16)
	if err != nil {
		return err
	}
	r, err := controller.New(rt, cache,
		schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"},
		schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "OCIRepository"})
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(rt); err != nil {
		return err
	}
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
