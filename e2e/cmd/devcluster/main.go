// Command devcluster starts and stops the local development cluster behind `make dev-up` and
// `make dev-down`: the control plane from bin/ plus one kwok node, with the Flux CRDs installed.
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
	"time"

	"gotk.dev/e2e/cluster"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "up" && os.Args[1] != "down") {
		fmt.Fprintln(os.Stderr, "usage: devcluster up|down --dir DIR [--bin DIR] [--crds DIR] [--api-port N]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".dev", "state directory (PKI, etcd data, logs, kubeconfig)")
	bin := fs.String("bin", cluster.DefaultBinDir(), "directory with the control plane binaries (make testbin)")
	crds := fs.String("crds", "manifests/crds", "directory with the CRDs to install")
	port := fs.Int("api-port", 16443, "loopback port of the API server (0 picks a free one)")
	_ = fs.Parse(os.Args[2:])
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail(err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if os.Args[1] == "down" {
		stopped, err := cluster.StopDetached(abs)
		if err != nil {
			fail(err)
		}
		if len(stopped) == 0 {
			fmt.Println("dev-down: nothing was running; state removed")
		} else {
			fmt.Printf("dev-down: stopped %s; state removed\n", strings.Join(stopped, ", "))
		}
		return
	}
	if err := up(ctx, abs, *bin, *crds, *port); err != nil {
		fail(err)
	}
}

func up(ctx context.Context, dir, bin, crds string, port int) error {
	if _, err := os.Stat(filepath.Join(dir, "pids")); err == nil {
		return fmt.Errorf("a dev cluster already runs from %s: run `make dev-down` first", dir)
	}
	_ = os.RemoveAll(dir)
	start := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{
		BinDir: bin, Dir: dir, Nodes: 1, APIServerPort: port, Detach: true,
		Logf: func(f string, a ...any) { fmt.Printf("► "+f+"\n", a...) },
	})
	if err != nil {
		return err
	}
	names, err := cluster.InstallCRDs(ctx, c.Config, crds)
	if err != nil {
		c.Stop()
		return err
	}
	fmt.Printf("✔ local cluster up in %s with %d CRDs installed and 1 kwok node\n\n", time.Since(start).Round(time.Second), len(names))
	fmt.Printf("  export KUBECONFIG=%s\n", c.Kubeconfig)
	fmt.Printf("  export PATH=%s:$PATH   # kubectl %s\n", bin, "from make testbin")
	fmt.Printf("  kubectl get crds\n\n")
	fmt.Printf("Logs are in %s. Stop everything with `make dev-down`.\n", c.LogDir)
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "✗", err)
	os.Exit(1)
}
