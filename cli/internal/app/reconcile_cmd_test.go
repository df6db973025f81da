package app

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOperateBadWords: unknown kinds, kinds a verb does not handle and missing names fail
// with exit 1 and name what is valid, before any cluster is contacted (none exists).
func TestOperateBadWords(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"get", "foo"}, `✗ unknown kind "foo" for flux get: valid ones are alert, alert-provider, all, artifacts, helmrelease, images, kustomization, receiver, sources`},
		{[]string{"get", "sources", "foo"}, `✗ unknown kind "foo" for flux get sources: valid ones are all, bucket, chart, external, git, helm, oci`},
		{[]string{"get", "sources", "kustomization"}, `✗ flux get sources does not work on Kustomization objects: valid ones are all, bucket, chart, external, git, helm, oci`},
		{[]string{"get", "sources", "GitRepository"}, `use flux get sources git`},
		{[]string{"reconcile", "source", "foo", "x"}, `✗ unknown kind "foo" for flux reconcile source: valid ones are bucket, chart, git, helm, oci`},
		{[]string{"reconcile", "alert", "x"}, `✗ flux reconcile does not work on Alert objects: valid ones are helmrelease, image, kustomization, receiver, source`},
		{[]string{"reconcile", "kustomization"}, "✗ Kustomization name is required"},
		{[]string{"reconcile", "source", "git", "a", "b"}, "✗ GitRepository name is required (one argument, got 2)"},
		{[]string{"suspend", "kustomization"}, "✗ Kustomization name is required (or --all for every Kustomization in the namespace)"},
		{[]string{"suspend", "source", "git", "x", "--all"}, "✗ GitRepository name is required (or --all"},
		{[]string{"resume", "sources", "nope", "x"}, `✗ unknown kind "nope" for flux resume source`},
		{[]string{"delete", "source", "git"}, "✗ GitRepository name is required"},
		{[]string{"delete", "foo", "x"}, `✗ unknown kind "foo" for flux delete`},
		{[]string{"export", "kustomization"}, "✗ Kustomization name is required (or --all"},
		{[]string{"export", "source", "all", "x"}, "✗ flux export source all takes no name"},
		{[]string{"export", "source", "foo"}, `✗ unknown kind "foo" for flux export source: valid ones are all, bucket, chart, external, git, helm, oci`},
		{[]string{"create", "source", "kustomization", "x"}, `✗ flux create source does not work on Kustomization objects: valid ones are bucket, chart, git, helm, oci`},
		{[]string{"create", "secret", "nope", "x"}, `✗ unknown kind "nope" for flux create secret: valid ones are git, githubapp, helm, oci, proxy, receiver, tls`},
		{[]string{"create", "foo"}, `✗ unknown kind "foo" for flux create: valid ones are alert, alert-provider, helmrelease, image, kustomization, receiver, secret, source`},
		{[]string{"get", "ks", "--status-selector=ready"}, `✗ invalid --status-selector "ready": want <condition>=<status>`},
		{[]string{"get", "all", "--watch"}, "✗ --watch works on one kind"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runFlux(t, "", append(tt.args, "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			wants(t, "stderr", r.stderr, tt.want)
		})
	}
}

// TestOperateUnreachableCluster: every operate command fails with exit 1 and names the API
// server it could not reach.
func TestOperateUnreachableCluster(t *testing.T) {
	for _, args := range [][]string{
		{"get", "sources", "git"}, {"get", "all", "-A"}, {"get", "ks", "--watch"},
		{"create", "source", "git", "x", "--url=https://example.com/x"},
		{"create", "source", "oci", "x", "--url=oci://example.com/x", "--tag=1"},
		{"create", "kustomization", "x", "--source=x"},
		{"create", "secret", "git", "x", "--url=https://example.com/x", "--bearer-token=t0k3n-s3cr3t"},
		{"create", "secret", "oci", "x", "--url=ghcr.io", "-u=u", "-p=t0k3n-s3cr3t"},
		{"create", "source", "helm", "x", "--url=https://charts.example.com", "-u=u", "-p=t0k3n-s3cr3t"},
		{"create", "source", "chart", "x", "--source=HelmRepository/x", "--chart=podinfo"},
		{"create", "source", "bucket", "x", "--bucket-name=b", "--endpoint=s3.example.com", "--access-key=a", "--secret-key=t0k3n-s3cr3t"},
		{"create", "secret", "helm", "x", "-u=u", "-p=t0k3n-s3cr3t"},
		{"create", "secret", "tls", "x", "--ca-crt-file=testdata/create-ca.crt"},
		{"reconcile", "source", "chart", "x", "--with-source"},
		{"reconcile", "kustomization", "x", "--with-source"}, {"reconcile", "source", "oci", "x"},
		{"suspend", "source", "git", "--all"}, {"resume", "kustomization", "x"},
		{"delete", "kustomization", "x", "--silent"}, {"export", "source", "all"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := runFlux(t, "", append(args, "--server=https://127.0.0.1:1", "--timeout=10s")...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			wants(t, "stderr", r.stderr, "✗ cannot reach the Kubernetes API server at https://127.0.0.1:1")
			if strings.Contains(r.stderr, "t0k3n-s3cr3t") {
				t.Error("a secret was printed")
			}
		})
	}
}
