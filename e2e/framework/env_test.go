package framework_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// bins builds each controller once for all tests of this package; set in TestMain, never
// reassigned.
var bins *framework.Binaries

func TestMain(m *testing.M) {
	bins = framework.NewBinaries("")
	code := m.Run()
	_ = bins.Remove()
	os.Exit(code)
}

const smokeNS = "smoke"

// TestSmoke starts the environment with source-controller alone, reconciles a
// GitRepository over HTTP and over SSH and an OCIRepository from the registry, then kills
// source-controller (SIGKILL, no graceful shutdown), changes both sources, restarts it and
// checks that it serves its old artifacts again and picks up the new revisions.
func TestSmoke(t *testing.T) {
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = opts.WithControllers("source-controller")
	opts.Binaries = bins
	opts.Namespaces = []string{smokeNS}
	start := time.Now()
	env := framework.Setup(t, opts)
	t.Logf("environment up in %s", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc, err := env.Controller("source-controller")
	if err != nil {
		t.Fatal(err)
	}
	apiBefore, err := env.APIRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Sources: one Git repository (served over HTTP and SSH) and one OCI artifact.
	repo, err := env.CreateGitRepo("org/app")
	if err != nil {
		t.Fatal(err)
	}
	commit1, err := repo.Commit(map[string]string{"deploy/cm.yaml": configMap("v1")}, "first")
	if err != nil {
		t.Fatal(err)
	}
	digest1, err := env.PushFiles(ctx, "app", "latest", map[string]string{"cm.yaml": configMap("v1")})
	if err != nil {
		t.Fatal(err)
	}
	sshSecret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "git-ssh", Namespace: smokeNS},
		Data:       env.SSHSecretData(),
	}
	if err := env.Client.Create(ctx, sshSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: http, namespace: %[1]s}
spec: {url: %[2]q, interval: 10m, ref: {branch: main}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: ssh, namespace: %[1]s}
spec: {url: %[3]q, interval: 10m, ref: {branch: main}, secretRef: {name: git-ssh}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: oci, namespace: %[1]s}
spec: {url: %[4]q, interval: 10m, insecure: true, ref: {tag: latest}}
`, smokeNS, repo.HTTPURL, repo.SSHURL, env.OCIURL("app"))); err != nil {
		t.Fatal(err)
	}
	gitHTTP := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "http", Namespace: smokeNS}}
	gitSSH := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "ssh", Namespace: smokeNS}}
	ociRepo := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Name: "oci", Namespace: smokeNS}}
	for _, obj := range []client.Object{gitHTTP, gitSSH, ociRepo} {
		if err := env.WaitReady(ctx, obj, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []*sourcev1.GitRepository{gitHTTP, gitSSH} {
		if got := g.Status.Artifact.Revision; got != repo.Revision(commit1) {
			t.Fatalf("GitRepository %s revision %q, want %q", g.Name, got, repo.Revision(commit1))
		}
	}
	if got, want := ociRepo.Status.Artifact.Revision, "latest@"+digest1; got != want {
		t.Fatalf("OCIRepository revision %q, want %q", got, want)
	}
	artifactURL := ociRepo.Status.Artifact.URL
	if !strings.Contains(artifactURL, sc.StorageAddr) {
		t.Fatalf("artifact URL %s is not served from --storage-adv-addr %s", artifactURL, sc.StorageAddr)
	}
	if err := fetch(artifactURL); err != nil {
		t.Fatal(err)
	}

	// Crash the controller: nothing serves the artifacts any more.
	sc.Kill()
	if sc.Running() {
		t.Fatal("source-controller still runs after Kill")
	}
	if err := fetch(artifactURL); err == nil {
		t.Fatal("the artifact is still served after source-controller was killed")
	}
	commit2, err := repo.Commit(map[string]string{"deploy/cm.yaml": configMap("v2")}, "second")
	if err != nil {
		t.Fatal(err)
	}
	digest2, err := env.PushFiles(ctx, "app", "latest", map[string]string{"cm.yaml": configMap("v2")})
	if err != nil {
		t.Fatal(err)
	}

	if err := sc.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// /readyz may answer before the artifact server listens: give it a moment.
	if err := framework.Poll(ctx, 10*time.Second, "the old artifact to be served after the restart", func(context.Context) (bool, error, error) {
		err := fetch(artifactURL)
		return err == nil, err, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{gitHTTP, gitSSH, ociRepo} {
		if _, err := env.RequestReconcile(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	want := map[client.Object]string{gitHTTP: repo.Revision(commit2), gitSSH: repo.Revision(commit2), ociRepo: "latest@" + digest2}
	for obj, rev := range want {
		err := framework.Poll(ctx, time.Minute, fmt.Sprintf("%s to reach %s", obj.GetName(), rev), func(ctx context.Context) (bool, error, error) {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return false, err, nil
			}
			got := artifactRevision(obj)
			ready, why := framework.Readiness(obj)
			return ready && got == rev, fmt.Errorf("revision %q, ready %v %s", got, ready, why), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Accounting covers both incarnations.
	if sc.Starts() != 2 {
		t.Errorf("Starts = %d, want 2", sc.Starts())
	}
	if rss, cpu := sc.PeakRSS(), sc.CPUSeconds(); rss < 10<<20 || cpu <= 0 {
		t.Errorf("PeakRSS %d bytes, CPUSeconds %.2f: implausible for a controller that ran twice", rss, cpu)
	}
	reqs, err := sc.ClientRequests(ctx)
	if err != nil || reqs["PATCH"] == 0 && reqs["PUT"] == 0 {
		t.Errorf("source-controller client requests %v, %v: want status writes", reqs, err)
	}
	apiAfter, err := env.APIRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	diff := framework.Diff(apiBefore, apiAfter)
	if diff.ByResource["PATCH gitrepositories.source.toolkit.fluxcd.io/status"] == 0 && diff.ByResource["PUT gitrepositories.source.toolkit.fluxcd.io/status"] == 0 {
		t.Errorf("API server counted no GitRepository status writes: %v", diff.ByResource)
	}
	t.Logf("source-controller: peak RSS %d MiB, CPU %.2fs; API requests %s; test client %s",
		sc.PeakRSS()>>20, sc.CPUSeconds(), framework.FormatCounts(diff.ByVerb), framework.FormatCounts(env.ClientRequests()))

	// Deployments become Available on the kwok node.
	if _, err := env.Apply(ctx, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: smoke}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: ghcr.io/stefanprodan/podinfo:6.5.3}]}
`); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitDeploymentAvailable(ctx, smokeNS, "web", time.Minute); err != nil {
		t.Fatal(err)
	}

	// A wait that cannot succeed says why: the object's conditions and the controller's log.
	missing := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Name: "missing", Namespace: smokeNS}}
	missing.Spec.URL = env.OCIURL("does-not-exist")
	missing.Spec.Insecure = true
	missing.Spec.Interval = metav1.Duration{Duration: 10 * time.Minute}
	missing.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "latest"}
	if err := env.ApplyObject(ctx, missing); err != nil {
		t.Fatal(err)
	}
	err = env.WaitReady(ctx, missing, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "Ready=False") || !strings.Contains(err.Error(), "last lines of "+sc.Logs) {
		t.Fatalf("WaitReady on a missing artifact: want conditions and the log tail, got %v", err)
	}

	// Logs of every process can be saved (what a failed test does).
	saved := t.TempDir()
	if err := env.SaveLogs(saved); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"source-controller.log", "cluster/kube-apiserver.log", "cluster/etcd.log", "cluster/kwok.log"} {
		if fi, err := os.Stat(filepath.Join(saved, f)); err != nil || fi.Size() == 0 {
			t.Errorf("saved logs lack %s: %v", f, err)
		}
	}
	// The SSH private key handed to the cluster never reaches a log.
	key := strings.Split(strings.TrimSpace(string(env.SSHSecretData()["identity"])), "\n")
	secretLine := key[len(key)/2] // a line of the base64 body, not the PEM header
	err = filepath.WalkDir(saved, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), secretLine) {
			t.Errorf("%s contains the SSH private key", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("smoke test body took %s", time.Since(start).Round(time.Millisecond))
}

func configMap(value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  value: " + value + "\n"
}

func artifactRevision(obj client.Object) string {
	switch o := obj.(type) {
	case *sourcev1.GitRepository:
		if o.Status.Artifact != nil {
			return o.Status.Artifact.Revision
		}
	case *sourcev1.OCIRepository:
		if o.Status.Artifact != nil {
			return o.Status.Artifact.Revision
		}
	}
	return ""
}

func fetch(url string) error {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || n == 0 {
		return fmt.Errorf("GET %s: %s, %d bytes", url, resp.Status, n)
	}
	return nil
}
