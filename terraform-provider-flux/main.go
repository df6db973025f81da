// Command terraform-provider-flux is the Terraform / OpenTofu provider that bootstraps Flux
// (resource flux_bootstrap_git) with the flux CLI's own bootstrap code.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/go-logr/logr"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"gotk.dev/terraform-provider-flux/internal/provider"
)

// version is set at build time (-ldflags "-X main.version=1.2.3"); it is the provider's
// version and the default Flux version it installs.
var version = "0.0.0-dev"

func main() {
	debug := flag.Bool("debug", false, "run with support for debuggers (prints TF_REATTACH_PROVIDERS)")
	flag.Parse()
	// The Kubernetes clients log nothing the user needs; errors reach Terraform as diagnostics.
	ctrllog.SetLogger(logr.Discard())
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
