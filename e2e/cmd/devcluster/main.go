// Command devcluster runs the local GitOps demo behind `make dev-up` and `make dev-down`: a
// local cluster (control plane + one kwok node), a Git server holding an example repository,
// the controllers as local processes, and `flux bootstrap git` against that server.
//
// Pods in the local cluster are simulated by kwok, so the controller Deployments that
// bootstrap installs only look Ready; the reconciling is done by the controller processes
// this command starts, with the same arguments as those Deployments.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"gotk.dev/e2e/cluster"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "up":
		err = runUp(ctx, os.Args[2:])
	case "down":
		err = runDown(os.Args[2:])
	case "gitserver":
		err = runGitServer(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "✗", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: devcluster up|down --dir DIR [--bin DIR] [--api-port N] [--example DIR] [--no-bootstrap]")
	os.Exit(2)
}

func runDown(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	dir := fs.String("dir", ".dev", "state directory")
	_ = fs.Parse(args)
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	stopped, err := cluster.StopDetached(abs)
	if err != nil {
		return err
	}
	if len(stopped) == 0 {
		fmt.Println("dev-down: nothing was running; state removed")
	} else {
		fmt.Printf("dev-down: stopped %s; state removed\n", strings.Join(stopped, ", "))
	}
	return nil
}
