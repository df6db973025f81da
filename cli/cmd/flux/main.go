// Command flux installs, bootstraps, operates and debugs the GitOps Toolkit controllers.
package main

import (
	"os"

	"gotk.dev/cli/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
