// Command source-controller reconciles GitRepository and OCIRepository objects into
// artifacts and serves them over HTTP.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"
	"gotk.dev/source-controller/internal/controller"
)

const controllerName = "source-controller"

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
		rtOpts          options.Runtime
		storageOpts     options.Storage
		maxArtifactSize int64
	)
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 2)
	storageOpts.BindFlags(fs)
	fs.Int64Var(&maxArtifactSize, "artifact-max-size", 0, "The maximum size in bytes of the files packed into an artifact, and of an OCI layer extracted into one (0 means no limit).")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := rtOpts.Validate(featureGates); err != nil {
		return err
	}
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:    controllerName,
		Scheme:  scheme,
		Options: &rtOpts,
		Watched: []ctrlObject{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{}},
	})
	if err != nil {
		return err
	}
	storage, err := artifact.NewStorage(artifact.StorageOptions{
		BasePath:         storageOpts.Path,
		Hostname:         advertisedAddr(storageOpts),
		RetentionTTL:     storageOpts.RetentionTTL,
		RetentionRecords: storageOpts.RetentionRecords,
		DigestAlgorithm:  storageOpts.DigestAlgorithm,
	})
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	server, err := newStorageServer(storage, storageOpts.Addr)
	if err != nil {
		return err
	}
	if err := rt.Manager.Add(server); err != nil {
		return err
	}
	if err := rt.Manager.AddReadyzCheck("storage", server.ready); err != nil {
		return err
	}
	if err := (&controller.GitRepositoryReconciler{
		Client:          rt.Manager.GetClient(),
		Storage:         storage,
		Git:             git.NewClient(git.ClientOptions{}),
		MaxArtifactSize: maxArtifactSize,
	}).SetupWithManager(rt); err != nil {
		return fmt.Errorf("GitRepository controller: %w", err)
	}
	if err := (&controller.OCIRepositoryReconciler{
		Client:          rt.Manager.GetClient(),
		Storage:         storage,
		MaxArtifactSize: maxArtifactSize,
		UserAgent:       controllerName,
		NewClient:       oci.NewClient,
	}).SetupWithManager(rt); err != nil {
		return fmt.Errorf("OCIRepository controller: %w", err)
	}
	rt.Log.Info("starting manager", "storage", storageOpts.Path, "storageAddr", storageOpts.Addr)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}

// advertisedAddr is --storage-adv-addr, or this host's name with the --storage-addr port.
func advertisedAddr(o options.Storage) string {
	if o.AdvAddr != "" {
		return o.AdvAddr
	}
	host, _ := os.Hostname()
	_, port, err := net.SplitHostPort(o.Addr)
	if err != nil || port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}
