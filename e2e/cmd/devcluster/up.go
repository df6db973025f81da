package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/ports"
	"gotk.dev/internal/testing/workspace"

	"gotk.dev/e2e/cluster"
	"gotk.dev/e2e/framework"
)

// demoControllers are the controllers the demo runs, notification-controller first so the
// others can post their events to it: all six (`flux install --components-extra`).
var demoControllers = []string{"notification-controller", "source-controller", "kustomize-controller", "helm-controller",
	"image-reflector-controller", "image-automation-controller"}

const (
	gitUser   = "gotk"
	fleetRepo = "fleet"
)

func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := fs.String("dir", ".dev", "state directory (PKI, etcd data, logs, kubeconfig, Git repositories)")
	bin := fs.String("bin", workspace.BinDir(), "directory with the control plane, controller and flux binaries")
	port := fs.Int("api-port", 16443, "loopback port of the API server (0 picks a free one)")
	example := fs.String("example", "e2e/journeys/testdata/platform", "example repository to push to the local Git server")
	clusterPath := fs.String("path", "clusters/dev", "the cluster's directory in the example repository (flux bootstrap --path)")
	noBootstrap := fs.Bool("no-bootstrap", false, "only start the cluster, with the CRDs installed")
	_ = fs.Parse(args)
	d, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(d, "pids")); err == nil {
		return fmt.Errorf("a dev cluster already runs from %s: run `make dev-down` first", d)
	}
	_ = os.RemoveAll(d)
	start := time.Now()
	say := func(f string, a ...any) { fmt.Printf("► "+f+"\n", a...) }

	c, err := cluster.Start(ctx, cluster.Options{BinDir: *bin, Dir: d, Nodes: 1, APIServerPort: *port, Detach: true, Logf: say})
	if err != nil {
		return err
	}
	stopOnError := func(err error) error {
		_, _ = cluster.KillDetached(d)
		return fmt.Errorf("%w\n  stopped what was started; logs are in %s (`make dev-down` removes them)", err, c.LogDir)
	}
	// The controllers need their CRDs to start; bootstrap applies the same ones again.
	root, _ := workspace.Root()
	if _, err := cluster.InstallCRDs(ctx, c.Config, filepath.Join(root, "manifests", "crds")); err != nil {
		return stopOnError(err)
	}
	if *noBootstrap {
		fmt.Printf("✔ local cluster up in %s with the Flux CRDs\n\n  export KUBECONFIG=%s\n", time.Since(start).Round(time.Second), c.Kubeconfig)
		return nil
	}

	password, err := randomHex(16)
	if err != nil {
		return stopOnError(err)
	}
	alertsKey, err := randomHex(16)
	if err != nil {
		return stopOnError(err)
	}
	urls, err := startGitServer(ctx, d, *example, *clusterPath, password, alertsKey, c.LogDir, say)
	if err != nil {
		return stopOnError(err)
	}
	if err := startControllers(ctx, d, *bin, c, say); err != nil {
		return stopOnError(err)
	}
	repoURL := urls.Git + "/" + fleetRepo + ".git"
	say("bootstrapping %s from %s", *clusterPath, repoURL)
	flux := filepath.Join(*bin, "flux")
	env := append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	boot := exec.CommandContext(ctx, flux, "bootstrap", "git", "--url="+repoURL, "--branch=main", "--path="+*clusterPath, "--components-extra=image-reflector-controller,image-automation-controller",
		"--allow-insecure-http=true", "--username="+gitUser, "--password="+password, "--silent", "--timeout=5m")
	boot.Env, boot.Stdout, boot.Stderr = env, os.Stdout, os.Stderr
	if err := boot.Run(); err != nil {
		return stopOnError(fmt.Errorf("flux bootstrap git: %w", err))
	}
	if err := waitAllReady(ctx, flux, env, 3*time.Minute); err != nil {
		return stopOnError(err)
	}
	get := exec.CommandContext(ctx, flux, "get", "all", "-A")
	get.Env, get.Stdout, get.Stderr = env, os.Stdout, os.Stderr
	_ = get.Run()

	credURL := strings.Replace(repoURL, "http://", "http://"+gitUser+":"+password+"@", 1)
	fmt.Printf(`
✔ GitOps demo up in %s

  export KUBECONFIG=%s
  export PATH=%s:$PATH

Push a change and watch it roll out:

  git clone %s fleet && cd fleet
  sed -i 's/replicaCount: 1/replicaCount: 3/' apps/base/frontend-release.yaml
  git commit -am "Scale the frontend" && git push
  flux reconcile kustomization flux-system --with-source
  flux get helmreleases -A --watch

The image automation writes podinfo's newest 6.x tag from the local registry (%s) to
apps/staging within a minute, and the frontend release is upgraded to it; follow it with:

  flux get images all -A
  git log origin/main   # in the clone: the automation's commit

Every Flux event is forwarded (Provider generic-hmac) to the central alerting endpoint:

  tail -f %s

The controllers run as local processes (pods in this cluster are simulated by kwok); their logs
and the control plane's are in %s. The Helm repository serving the podinfo chart is %s.
Stop everything with `+"`make dev-down`"+`.
`, time.Since(start).Round(time.Second), c.Kubeconfig, *bin, credURL, urls.Registry, filepath.Join(c.LogDir, "alerts.log"), c.LogDir, urls.Helm)
	return nil
}

// startGitServer runs this command's gitserver mode (Git server, Helm repository, alerts
// endpoint) as a detached process and returns its URLs.
func startGitServer(ctx context.Context, dir, example, clusterPath, password, alertsKey, logDir string, say func(string, ...any)) (servedURLs, error) {
	var urls servedURLs
	self, err := os.Executable()
	if err != nil {
		return urls, err
	}
	chart := helmrepo.PodinfoDir()
	urlFile := filepath.Join(dir, "peer-urls.json")
	if _, err := cluster.StartDetached(dir, "git-server", self, []string{"gitserver",
		"--root=" + filepath.Join(dir, "git"), "--username=" + gitUser, "--password=" + password,
		"--repo=" + fleetRepo, "--seed=" + example, "--skip=" + clusterPath + "/flux-system",
		"--chart=" + chart, "--alerts-key=" + alertsKey, "--alerts-log=" + filepath.Join(logDir, "alerts.log"),
		"--url-file=" + urlFile}, nil, logDir); err != nil {
		return urls, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
			if err := json.Unmarshal(b, &urls); err != nil {
				return urls, fmt.Errorf("%s: %w", urlFile, err)
			}
			say("Git server at %s, repository %q seeded from %s; Helm repository at %s", urls.Git, fleetRepo, example, urls.Helm)
			return urls, nil
		}
		if time.Now().After(deadline) {
			return urls, fmt.Errorf("the Git server did not start; see %s", filepath.Join(logDir, "git-server.log"))
		}
		select {
		case <-ctx.Done():
			return urls, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startControllers runs the controllers as detached local processes with their manifests'
// arguments, and waits until each reports ready.
func startControllers(ctx context.Context, dir, bin string, c *cluster.Cluster, say func(string, ...any)) error {
	eventsURL := ""
	for _, name := range demoControllers {
		addrs := framework.LocalAddrs{EventsURL: eventsURL}
		for _, a := range []*string{&addrs.Metrics, &addrs.Health, &addrs.Storage, &addrs.Events, &addrs.Receiver} {
			var err error
			if *a, err = ports.FreeAddr(); err != nil {
				return err
			}
		}
		if name == "notification-controller" {
			eventsURL = "http://" + addrs.Events + "/"
		}
		args, err := framework.LocalControllerArgs(name, addrs, c.Kubeconfig, filepath.Join(dir, "storage", name), nil)
		if err != nil {
			return err
		}
		path := filepath.Join(bin, name)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s not found in %s: run `make build`", name, bin)
		}
		env := []string{"RUNTIME_NAMESPACE=flux-system", "TMPDIR=" + filepath.Join(dir, "tmp")}
		_ = os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
		if _, err := cluster.StartDetached(dir, name, path, args, env, c.LogDir); err != nil {
			return err
		}
		if err := waitReadyz(ctx, addrs.Health, 60*time.Second); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", name, err, filepath.Join(c.LogDir, name+".log"))
		}
		say("%s running (metrics %s)", name, addrs.Metrics)
	}
	return nil
}

// waitAllReady polls until every Kustomization and source reports Ready=True.
func waitAllReady(ctx context.Context, flux string, env []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		cmd := exec.CommandContext(ctx, flux, "get", "all", "-A", "--status-selector=ready=false", "--no-header")
		cmd.Env = env
		out, err := cmd.Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not everything became Ready within %s:\n%s", timeout, out)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func waitReadyz(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
