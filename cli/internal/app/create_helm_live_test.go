package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/s3server"
)

var (
	opHelmRepositoryGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "HelmRepository"}
	opHelmChartGVK      = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "HelmChart"}
	opBucketGVK         = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "Bucket"}
)

// TestHelmAndBucketSources drives the commands for HelmRepository, HelmChart and Bucket
// against a local cluster with the real source-controller and kustomize-controller: create
// source helm (with credentials, and an OCI one), create source chart, create source bucket
// and a Kustomization of it, create secret helm and tls, get, reconcile --with-source,
// suspend/resume, export with credentials, trace of an object applied from the bucket, and
// delete.
func TestHelmAndBucketSources(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster with Flux controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	fw := framework.Setup(t, opts.WithControllers("source-controller", "kustomize-controller"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := &opEnv{Env: fw, kubeconfig: fw.Cluster.Kubeconfig, ctx: ctx}

	const password = "helm-repo-pa55"
	charts := helmrepo.New(t, helmrepo.Options{Username: "flux", Password: password})
	charts.AddPodinfo(t, "6.0.0", "6.1.0")
	s3, err := s3server.Start(s3server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Close() })
	if err := s3.PutObjects(ctx, "manifests", map[string]string{
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-bucket\n  namespace: default\ndata:\n  from: bucket\n",
	}); err != nil {
		t.Fatal(err)
	}

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("create helm", func(t *testing.T) {
		r := e.ok(t, "create", "source", "helm", "podinfo", "--url="+charts.URL, "--username=flux", "--password="+password, "--interval=10m")
		wants(t, "stderr", r.stderr, `✚ generating HelmRepository source
► applying secret with repository credentials
✔ authentication configured
► applying HelmRepository source
✔ HelmRepository source created
◎ waiting for HelmRepository source reconciliation
✔ HelmRepository source reconciliation completed
✔ fetched revision: sha256:`)
		if strings.Contains(r.stderr, password) {
			t.Errorf("the password was printed:\n%s", r.stderr)
		}
		if s := e.secret(t, "podinfo"); s == nil || string(s.Data["password"]) != password {
			t.Errorf("secret podinfo: %v", s)
		}
		repo := e.object(t, opHelmRepositoryGVK, "podinfo")
		if ref, _, _ := unstructured.NestedString(repo.Object, "spec", "secretRef", "name"); ref != "podinfo" {
			t.Errorf("spec.secretRef = %q", ref)
		}

		r = e.ok(t, "create", "source", "chart", "podinfo", "--source=HelmRepository/podinfo", "--chart=podinfo", "--chart-version=6.x", "--interval=10m")
		wantStderr(t, r, `✚ generating HelmChart source
► applying HelmChart source
✔ HelmChart source created
◎ waiting for HelmChart source reconciliation
✔ HelmChart source reconciliation completed
✔ fetched revision: 6.1.0
`)

		// An OCI HelmRepository is created and not waited for; reconciling it is refused.
		r = e.ok(t, "create", "source", "helm", "oci", "--url=oci://ghcr.io/stefanprodan/charts")
		wantStderr(t, r, "✚ generating HelmRepository source\n► applying HelmRepository source\n✔ HelmRepository source created\n")
		e.fails(t, "", []string{"reconcile", "source", "helm", "oci"}, "HelmRepository flux-system/oci is of type oci: reconciliation is not supported")

		e.ok(t, "create", "secret", "helm", "other-auth", "-u=a", "-p=b")
		if s := e.secret(t, "other-auth"); s == nil || string(s.Data["username"]) != "a" {
			t.Errorf("secret other-auth: %v", s)
		}
		e.ok(t, "create", "secret", "tls", "other-tls", "--ca-crt-file=testdata/create-ca.crt")
		if s := e.secret(t, "other-tls"); s == nil || !strings.Contains(string(s.Data["ca.crt"]), "BEGIN CERTIFICATE") {
			t.Errorf("secret other-tls: %v", s)
		}
	})
	step("create bucket", func(t *testing.T) {
		r := e.ok(t, "create", "source", "bucket", "manifests", "--bucket-name=manifests", "--endpoint="+s3.Endpoint(),
			"--insecure", "--access-key="+s3.AccessKey(), "--secret-key="+s3.SecretKey(), "--interval=10m")
		wants(t, "stderr", r.stderr, "► applying secret with the bucket credentials\n✔ authentication configured\n",
			"✔ Bucket source reconciliation completed\n✔ fetched revision: sha256:")
		if strings.Contains(r.stderr, s3.SecretKey()) {
			t.Errorf("the secret key was printed:\n%s", r.stderr)
		}
		e.ok(t, "create", "kustomization", "from-bucket", "--source=Bucket/manifests", "--path=./", "--prune", "--interval=10m")
		if v := e.configMapData(t, "from-bucket", "from"); v != "bucket" {
			t.Errorf("ConfigMap from the bucket: %q", v)
		}
		r = e.ok(t, "trace", "configmap/from-bucket", "-n", "default")
		wants(t, "stdout", r.stdout, "Kustomization:", "from-bucket", "Bucket:", "Bucket name:", "URL:", "http://"+s3.Endpoint())
	})
	step("get", func(t *testing.T) {
		r := e.ok(t, "get", "sources", "helm")
		wants(t, "stdout", r.stdout, "podinfo", "sha256:", "True", "stored artifact for revision")
		r = e.ok(t, "get", "sources", "chart")
		wants(t, "stdout", r.stdout, "podinfo", "6.1.0", "pulled 'podinfo' chart with version '6.1.0'")
		r = e.ok(t, "get", "sources", "bucket")
		wants(t, "stdout", r.stdout, "manifests", "sha256:", "True")
		r = e.ok(t, "get", "sources", "all")
		wants(t, "stdout", r.stdout, "helmrepository/podinfo", "helmchart/podinfo", "bucket/manifests")
	})
	step("reconcile chart with source", func(t *testing.T) {
		charts.AddPodinfo(t, "6.2.0")
		r := e.ok(t, "reconcile", "source", "chart", "podinfo", "--with-source")
		wants(t, "stderr", r.stderr, "► annotating HelmRepository podinfo in flux-system namespace\n",
			"► annotating HelmChart podinfo in flux-system namespace\n✔ HelmChart annotated\n◎ waiting for HelmChart reconciliation\n✔ fetched revision 6.2.0\n")
	})
	step("suspend and resume", func(t *testing.T) {
		for _, kind := range []string{"helm", "chart", "bucket"} {
			name := map[string]string{"helm": "podinfo", "chart": "podinfo", "bucket": "manifests"}[kind]
			e.ok(t, "suspend", "source", kind, name)
			e.ok(t, "resume", "source", kind, name)
		}
		if s, _, _ := unstructured.NestedBool(e.object(t, opBucketGVK, "manifests").Object, "spec", "suspend"); s {
			t.Error("the Bucket is still suspended")
		}
	})
	step("export", func(t *testing.T) {
		r := e.ok(t, "export", "source", "helm", "podinfo", "--with-credentials")
		wants(t, "stdout", r.stdout, "kind: HelmRepository", "kind: Secret", "name: podinfo")
		r = e.ok(t, "export", "source", "chart", "--all")
		wants(t, "stdout", r.stdout, "kind: HelmChart", "version: 6.x")
		r = e.ok(t, "export", "source", "bucket", "manifests")
		wants(t, "stdout", r.stdout, "kind: Bucket", "bucketName: manifests")
	})
	step("delete", func(t *testing.T) {
		e.ok(t, "delete", "source", "chart", "podinfo", "--silent")
		e.waitGone(t, "HelmChart podinfo", func() error {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(opHelmChartGVK)
			return e.Client.Get(e.ctx, client.ObjectKey{Namespace: "flux-system", Name: "podinfo"}, u)
		})
	})
}
