package app

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/gitserver"
)

func testSelectorWatch(t *testing.T, e *opEnv) {
	r := e.ok(t, "get", "ks", "--status-selector", "ready=false")
	wantStderr(t, r, "✗ no Kustomization objects found in flux-system namespace\n")
	r = e.ok(t, "get", "ks", "--status-selector", "Ready=True", "--no-header")
	if !strings.HasPrefix(r.stdout, "oci-app") || !strings.Contains(r.stdout, "\npodinfo") {
		t.Errorf("ready=true: %q", r.stdout)
	}

	// A watch prints the objects, then a row again when one changes.
	var wg sync.WaitGroup
	var watched result
	wg.Add(1)
	go func() {
		defer wg.Done()
		watched = e.flux(t, "", "get", "ks", "--watch", "--timeout=4s")
	}()
	time.Sleep(1500 * time.Millisecond)
	e.ok(t, "suspend", "ks", "oci-app")
	wg.Wait()
	e.ok(t, "resume", "ks", "oci-app")
	if watched.code != 0 {
		t.Fatalf("watch: exit %d\n%s", watched.code, watched.stderr)
	}
	lines := strings.Split(strings.TrimSpace(watched.stdout), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "NAME") || strings.Count(watched.stdout, "NAME") != 1 {
		t.Fatalf("watch output: header once, then rows:\n%s", watched.stdout)
	}
	suspended := false
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		suspended = suspended || len(f) > 2 && f[0] == "oci-app" && f[2] == "True"
	}
	if !suspended {
		t.Errorf("the watch did not show oci-app suspended:\n%s", watched.stdout)
	}
}

func testReconcileFailure(t *testing.T, e *opEnv, repo *framework.GitRepo) {
	hash3, err := repo.Commit(map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [broken\n"}, "broken")
	if err != nil {
		t.Fatal(err)
	}
	e.fails(t, "", []string{"reconcile", "ks", "podinfo", "--with-source"},
		"✔ fetched revision main@sha1:"+hash3+"\n► annotating Kustomization podinfo in flux-system namespace\n",
		"◎ waiting for Kustomization reconciliation\n✗ Kustomization reconciliation failed: '")
	r := e.ok(t, "get", "ks", "--status-selector", "ready=false", "--no-header")
	if f := strings.Fields(r.stdout); len(f) < 4 || f[0] != "podinfo" || f[3] != "False" {
		t.Errorf("get ready=false: %q", r.stdout)
	}
	if _, err := repo.Commit(configMapManifests("podinfo-config", "3"), "fixed"); err != nil {
		t.Fatal(err)
	}
	e.ok(t, "reconcile", "ks", "podinfo", "--with-source")
	if v := e.configMapData(t, "podinfo-config", "version"); v != "3" {
		t.Errorf("ConfigMap version %q after the fix, want 3", v)
	}
}

func testMissing(t *testing.T, e *opEnv) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"reconcile", "source", "git", "nope"}, "✗ GitRepository flux-system/nope not found\n"},
		{[]string{"reconcile", "ks", "nope", "--with-source"}, "✗ Kustomization flux-system/nope not found\n"},
		{[]string{"suspend", "ks", "nope"}, "✗ Kustomization flux-system/nope not found\n"},
		{[]string{"resume", "source", "oci", "nope"}, "✗ OCIRepository flux-system/nope not found\n"},
		{[]string{"delete", "ks", "nope", "--silent"}, "✗ Kustomization flux-system/nope not found\n"},
		{[]string{"export", "source", "git", "nope"}, "✗ GitRepository flux-system/nope not found\n"},
		{[]string{"get", "sources", "git", "nope"}, "✗ GitRepository flux-system/nope not found\n"},
		{[]string{"export", "source", "helm", "--all"}, "✗ no HelmRepository objects found in flux-system namespace\n"},
	} {
		r := e.fails(t, "", tt.args)
		wantStderr(t, r, tt.want)
	}
}

func testCreateSSH(t *testing.T, e *opEnv, sshURL string) {
	// A generated key, authorized on the server afterwards, as a user adds a deploy key.
	r := e.ok(t, "create", "secret", "git", "ssh-auth", "--url="+sshURL, "--ssh-key-algorithm=ed25519")
	wants(t, "stderr", r.stderr, "✚ deploy key: ssh-ed25519 ", "► git secret 'ssh-auth' created in 'flux-system' namespace\n")
	s := e.secret(t, "ssh-auth")
	if s == nil || len(s.Data["identity"]) == 0 || len(s.Data["known_hosts"]) == 0 || len(s.StringData) != 0 {
		t.Fatalf("secret ssh-auth: %v", s)
	}
	if strings.Contains(r.stderr, string(s.Data["identity"])[40:80]) {
		t.Error("the private key was printed")
	}
	if err := e.GitSSH.AuthorizeKey(s.Data["identity.pub"]); err != nil {
		t.Fatal(err)
	}
	r = e.ok(t, "create", "source", "git", "over-ssh", "--url="+sshURL, "--branch=main", "--secret-ref=ssh-auth", "--interval=10m")
	wants(t, "stderr", r.stderr, "✔ fetched revision: main@sha1:")

	// A given key file: the deploy key is shown and confirmed from stdin.
	keyFile := filepath.Join(t.TempDir(), "identity")
	if err := os.WriteFile(keyFile, e.GitSSH.ClientKey(), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"create", "source", "git", "ssh-key-file", "--url=" + sshURL, "--branch=main", "--private-key-file=" + keyFile, "--interval=10m"}
	r = e.flux(t, "y\n", args...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	wants(t, "stderr", r.stderr, "✚ generating GitRepository source\n✔ collected public key from SSH server:\n[127.0.0.1]:",
		"✚ deploy key: "+strings.TrimSpace(string(e.GitSSH.ClientPublicKey()))+"\n",
		"Have you added the deploy key to your repository? [y/N] ",
		"► applying secret with repository credentials\n✔ authentication configured\n► applying GitRepository source\n",
		"✔ fetched revision: main@sha1:")
	if strings.Contains(r.stderr, string(e.GitSSH.ClientKey())[40:80]) {
		t.Error("the private key was printed")
	}
	repo := e.object(t, opGitRepositoryGVK, "ssh-key-file")
	if ref, _, _ := unstructured.NestedString(repo.Object, "spec", "secretRef", "name"); ref != "ssh-key-file" {
		t.Errorf("spec.secretRef.name %q", ref)
	}
	if s := e.secret(t, "ssh-key-file"); s == nil || string(s.Data["identity"]) != string(e.GitSSH.ClientKey()) {
		t.Error("the Secret does not hold the key file")
	}

	// Declined: nothing is applied.
	args[3] = "ssh-declined"
	e.fails(t, "n\n", args, "✗ aborting\n")
	if e.secret(t, "ssh-declined") != nil {
		t.Error("a declined create left a Secret")
	}
}

func testCreateBasicAuth(t *testing.T, e *opEnv) {
	const password = "s3cr3t-pa55"
	srv, err := gitserver.Start(gitserver.Options{Root: filepath.Join(e.Dir, "git"), Username: "flux", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.RepoURL("podinfo")
	r := e.ok(t, "create", "source", "git", "private", "--url="+url, "--branch=main", "--username=flux", "--password="+password, "--interval=10m")
	wants(t, "stderr", r.stderr, `✚ generating GitRepository source
⚠️ insecure configuration: credentials configured for an HTTP URL
► applying secret with repository credentials
✔ authentication configured
► applying GitRepository source
✔ GitRepository source created
`, "✔ fetched revision: main@sha1:")
	if s := e.secret(t, "private"); s == nil || string(s.Data["username"]) != "flux" || string(s.Data["password"]) != password {
		t.Errorf("secret private: %v", s)
	}

	// The API server refuses the GitRepository: the Secret made for it is taken back.
	e.fails(t, "", []string{"create", "source", "git", "bad-interval", "--url=" + url, "--branch=main", "--username=flux",
		"--password=" + password, "--interval=-1m"},
		"✔ authentication configured\n► applying GitRepository source\n",
		"deleted Secret flux-system/bad-interval again: the GitRepository it was made for was not applied",
		"✗ apply GitRepository flux-system/bad-interval")
	if e.secret(t, "bad-interval") != nil {
		t.Error("the Secret of a GitRepository that was not applied is left behind")
	}

	// Wrong credentials: the wait ends at --timeout with the controller's reason.
	r = e.fails(t, "", []string{"create", "source", "git", "wrong-pass", "--url=" + url, "--branch=main", "--username=flux",
		"--password=wr0ng-pa55", "--timeout=5s"},
		"✗ timed out after 5s waiting for GitRepository flux-system/wrong-pass to become ready: Ready=False: ")
	if strings.Contains(r.stderr, password) || strings.Contains(r.stderr, "wr0ng-pa55") {
		t.Errorf("a password was printed:\n%s", r.stderr)
	}
	e.ok(t, "delete", "source", "git", "wrong-pass", "--silent")
}

func testDelete(t *testing.T, e *opEnv) {
	e.fails(t, "n\n", []string{"delete", "ks", "podinfo"},
		"This action will remove the Kubernetes objects previously applied by the podinfo kustomization. Are you sure you want to delete this kustomization? [y/N] ",
		"✗ aborting\n")
	e.object(t, opKustomizationGVK, "podinfo") // still there

	r := e.ok(t, "delete", "ks", "podinfo", "--silent")
	wantStderr(t, r, "► deleting kustomization podinfo in flux-system namespace\n✔ kustomization deleted\n")
	e.waitGone(t, "Kustomization podinfo", func() error {
		return e.Client.Get(e.ctx, client.ObjectKey{Namespace: "flux-system", Name: "podinfo"}, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization"}})
	})
	e.waitGone(t, "ConfigMap podinfo-config (pruned)", func() error {
		_, err := e.Clientset.CoreV1().ConfigMaps("default").Get(e.ctx, "podinfo-config", metav1.GetOptions{})
		return err
	})

	r = e.flux(t, "y\n", "delete", "source", "git", "podinfo")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	wants(t, "stderr", r.stderr, "Are you sure you want to delete this source git? [y/N] ",
		"► deleting source git podinfo in flux-system namespace\n✔ source git deleted\n")
	e.waitGone(t, "GitRepository podinfo", func() error {
		return e.Client.Get(e.ctx, client.ObjectKey{Namespace: "flux-system", Name: "podinfo"}, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository"}})
	})
}
