package app

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gotk.dev/e2e/framework"
)

// TestImageCommands drives the image commands against a local cluster with the real
// source-controller and image controllers, a Git server and a registry: create image
// repository, policy and update (each waits until Ready), get images, reconcile image
// repository and update after a new tag, suspend/resume, export and delete.
func TestImageCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster with Flux controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	fw := framework.Setup(t, opts.WithControllers("source-controller", "image-reflector-controller", "image-automation-controller"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := &opEnv{Env: fw, kubeconfig: fw.Cluster.Kubeconfig, ctx: ctx}
	image := fw.Registry.Host() + "/cli/podinfo"
	pushTag := func(tag string) {
		t.Helper()
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.NewTag(image + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
	}
	pushTag("6.0.0")
	pushTag("6.1.0")
	repo, err := e.CreateGitRepo("fleet")
	if err != nil {
		t.Fatal(err)
	}
	manifest := func(tag string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\ndata:\n  image: " + image + ":" + tag +
			" # {\"$imagepolicy\": \"flux-system:podinfo\"}\n"
	}
	if _, err := repo.Commit(map[string]string{"deploy/podinfo.yaml": manifest("6.0.0")}, "initial"); err != nil {
		t.Fatal(err)
	}

	r := e.ok(t, "create", "image", "repository", "podinfo", "--image="+image, "--interval=1h")
	wants(t, "stderr", r.stderr, "✚ generating ImageRepository", "✔ ImageRepository created", "✔ ImageRepository reconciliation completed", "✔ scan fetched 2 tags")
	r = e.ok(t, "create", "image", "policy", "podinfo", "--image-ref=podinfo", "--select-semver=6.x")
	wants(t, "stderr", r.stderr, "✔ ImagePolicy reconciliation completed", "✔ Latest image tag for '"+image+"' resolved to 6.1.0")
	e.ok(t, "create", "source", "git", "fleet", "--url="+repo.HTTPURL, "--branch=main", "--interval=1h")
	r = e.ok(t, "create", "image", "update", "fleet", "--git-repo-ref=fleet", "--git-repo-path=./deploy",
		"--checkout-branch=main", "--author-name=flux", "--author-email=flux@example.com", "--interval=1h")
	wants(t, "stderr", r.stderr, "✔ ImageUpdateAutomation reconciliation completed", "✔ repository up-to-date")
	waitFile(t, fw.Git.Path(repo.Name), "deploy/podinfo.yaml", manifest("6.1.0"))

	r = e.ok(t, "get", "images", "all")
	wants(t, "stdout", r.stdout, "\tLAST SCAN", "imagerepository/podinfo", "\tLATEST IMAGE",
		"imagepolicy/podinfo\t"+image+":6.1.0", "\tLAST RUN", "imageupdateautomation/fleet")
	r = e.ok(t, "get", "images", "policy", "podinfo")
	wants(t, "stdout", r.stdout, "podinfo\t"+image+":6.1.0\tTrue \tLatest image tag")

	// A new tag: the repository scan finds it on request, the policy follows by itself and
	// the automation pushes it.
	pushTag("6.2.0")
	r = e.ok(t, "reconcile", "image", "repository", "podinfo")
	wants(t, "stderr", r.stderr, "► annotating ImageRepository podinfo in flux-system namespace", "✔ scan fetched 3 tags")
	waitFile(t, fw.Git.Path(repo.Name), "deploy/podinfo.yaml", manifest("6.2.0"))
	r = e.ok(t, "reconcile", "image", "update", "fleet")
	wants(t, "stderr", r.stderr, "✔ repository up-to-date")

	r = e.ok(t, "suspend", "image", "update", "fleet")
	wants(t, "stderr", r.stderr, "✔ image update suspended")
	r = e.ok(t, "get", "images", "update")
	wants(t, "stdout", r.stdout, "fleet\t")
	if !strings.Contains(r.stdout, "True     \t") {
		t.Errorf("suspended automation not shown as suspended:\n%s", r.stdout)
	}
	e.fails(t, "", []string{"reconcile", "image", "update", "fleet"}, "is suspended")
	e.ok(t, "resume", "image", "update", "fleet")

	r = e.ok(t, "export", "image", "policy", "--all")
	wants(t, "stdout", r.stdout, "kind: ImagePolicy", "name: podinfo", "range: 6.x")
	if strings.Contains(r.stdout, "status:") || strings.Contains(r.stdout, "resourceVersion") {
		t.Errorf("export kept cluster state:\n%s", r.stdout)
	}
	r = e.ok(t, "delete", "image", "policy", "podinfo", "--silent")
	wants(t, "stderr", r.stderr, "✔ image policy deleted")
	e.fails(t, "", []string{"get", "images", "policy", "podinfo"}, "ImagePolicy flux-system/podinfo not found")
}

// waitFile waits until main of the bare repository holds want at path (read with git).
func waitFile(t *testing.T, bare, path, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := exec.Command("git", "--git-dir", bare, "show", "main:"+path).Output()
		if err == nil && string(out) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on main: %q (%v), want %q", path, out, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
