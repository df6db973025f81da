package controller

import (
	"bytes"
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	helmreg "helm.sh/helm/v3/pkg/registry"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/registry"
	"gotk.dev/internal/testing/s3server"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestHelmChartFromOCIRepository pulls charts pushed with helm to the distribution registry
// behind TLS and basic auth, through an OCI HelmRepository carrying the credentials and CA;
// a wrong password is a FetchFailed condition that does not show it.
func TestHelmChartFromOCIRepository(t *testing.T) {
	t.Parallel()
	const password = "registry-pa55-for-charts"
	reg, err := registry.Start(registry.Options{Users: map[string]string{"helm": password}, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	pushed := map[string][]byte{}
	for _, v := range []string{"6.0.0", "6.0.1", "6.1.0"} {
		pushed[v] = helmrepo.Package(t, helmrepo.PodinfoDir(), "", v)
		helmrepo.PushChart(t, reg.Host(), "charts", pushed[v], helmreg.ClientOptBasicAuth("helm", password),
			helmreg.ClientOptHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: reg.TLSConfig()}}))
	}
	ns := newNamespace(t)
	createSecret(t, ns, "creds", "", map[string][]byte{"username": []byte("helm"), "password": []byte(password)})
	createSecret(t, ns, "wrong", "", map[string][]byte{"username": []byte("helm"), "password": []byte("wrong-" + password)})
	createSecret(t, ns, "ca", "", map[string][]byte{"ca.crt": reg.CAPEM()})
	for _, name := range []string{"oci", "oci-wrong"} {
		secret := map[string]string{"oci": "creds", "oci-wrong": "wrong"}[name]
		create(t, newHelmRepository(ns, name, reg.URL("charts"), func(o *sourcev1.HelmRepository) {
			o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
			o.Spec.SecretRef = &metaRef{Name: secret}
			o.Spec.CertSecretRef = &metaRef{Name: "ca"}
		}))
	}

	obj := newHelmChart(ns, "podinfo", sourcev1.HelmRepositoryKind, "oci", "podinfo", func(o *sourcev1.HelmChart) { o.Spec.Version = "6.0.x" })
	create(t, obj)
	waitRevision(t, obj, "6.0.1")
	if !bytes.Equal(download(t, obj.Status.Artifact), pushed["6.0.1"]) {
		t.Error("the stored chart is not the pushed archive")
	}
	if obj.Status.ObservedSourceArtifactRevision != "" || obj.Status.ObservedChartName != "podinfo" {
		t.Errorf("status = %+v", obj.Status)
	}
	wantCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, "pulled 'podinfo' chart with version '6.0.1'")

	denied := newHelmChart(ns, "denied", sourcev1.HelmRepositoryKind, "oci-wrong", "podinfo", nil)
	create(t, denied)
	waitNotReady(t, denied, "ChartPullError")
	wantCondition(t, denied, sourcev1.FetchFailedCondition, metav1.ConditionTrue, "ChartPullError", reg.Host(), "authentication failed")
	wantNoSecret(t, denied, password, "wrong-"+password)
}

// TestHelmChartFromGitRepository packages a chart directory of a Git repository: with
// reconcileStrategy Revision the version carries the commit, a file:// dependency comes from
// the same repository and an HTTP dependency through the namespace's HelmRepository of that
// URL, with its credentials; with ChartVersion a new commit keeps the chart version.
func TestHelmChartFromGitRepository(t *testing.T) {
	t.Parallel()
	const password = "dependency-repo-pa55"
	deps := podinfoRepo(t, helmrepo.Options{Username: "flux", Password: password}, "6.0.0", "6.1.0")
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("charts")
	if err != nil {
		t.Fatal(err)
	}
	files := helmrepo.ReadTree(t, helmrepo.PodinfoDir(), "charts/podinfo")
	files["charts/app/Chart.yaml"] = "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n" +
		"  - name: podinfo\n    version: 6.14.x\n    repository: file://../podinfo\n    alias: local\n" +
		"  - name: podinfo-remote\n    version: \"*\"\n    repository: " + deps.URL + "\n"
	files["charts/app/values.yaml"] = "replicaCount: 1\n"
	files["charts/app/templates/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
	// The remote dependency is podinfo published under another name.
	deps.AddChart(t, helmrepo.Package(t, helmrepo.PodinfoDir(), "podinfo-remote", "2.0.0"))
	first := srv.Commit("charts").Files(files).MustDo(t)

	ns := newNamespace(t)
	createSecret(t, ns, "deps-auth", "", map[string][]byte{"username": []byte("flux"), "password": []byte(password)})
	readyHelmRepository(t, ns, "deps", deps.URL, func(o *sourcev1.HelmRepository) { o.Spec.SecretRef = &metaRef{Name: "deps-auth"} })
	git := newGitRepository(ns, "charts", url, func(o *sourcev1.GitRepository) {
		o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"}
	})
	create(t, git)
	waitReady(t, git)

	byRevision := newHelmChart(ns, "by-revision", sourcev1.GitRepositoryKind, "charts", "./charts/app", func(o *sourcev1.HelmChart) {
		o.Spec.ReconcileStrategy = sourcev1.ReconcileStrategyRevision
	})
	byVersion := newHelmChart(ns, "by-version", sourcev1.GitRepositoryKind, "charts", "charts/podinfo", nil)
	create(t, byRevision)
	create(t, byVersion)
	waitRevision(t, byRevision, "1.0.0+"+first[:12])
	waitRevision(t, byVersion, "6.14.1")
	c := loadChart(t, download(t, byRevision.Status.Artifact))
	var got []string
	for _, d := range c.Dependencies() {
		got = append(got, d.Name()+"-"+d.Metadata.Version)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "podinfo-6.14.1,podinfo-remote-2.0.0" {
		t.Errorf("packaged dependencies = %v", got)
	}
	wantCondition(t, byRevision, meta.ReadyCondition, metav1.ConditionTrue, sourcev1.ChartPackageSucceededReason, "packaged 'app' chart with version '1.0.0+"+first[:12]+"'")
	if byRevision.Status.ObservedSourceArtifactRevision != git.Status.Artifact.Revision {
		t.Errorf("observedSourceArtifactRevision %s, want %s", byRevision.Status.ObservedSourceArtifactRevision, git.Status.Artifact.Revision)
	}

	second := srv.Commit("charts").File("charts/app/values.yaml", "replicaCount: 2\n").MustDo(t)
	requestReconcile(t, git)
	waitRevision(t, byRevision, "1.0.0+"+second[:12])
	waitFor(t, byVersion, "the new commit observed", func(o *sourcev1.HelmChart) bool {
		return strings.HasSuffix(o.Status.ObservedSourceArtifactRevision, second)
	})
	if byVersion.Status.Artifact.Revision != "6.14.1" {
		t.Errorf("ChartVersion strategy: revision %s after a commit that kept the chart version", byVersion.Status.Artifact.Revision)
	}
}

// TestHelmChartFromBucket packages a chart directory uploaded to a bucket on versitygw.
func TestHelmChartFromBucket(t *testing.T) {
	t.Parallel()
	s3, err := s3server.Start(s3server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Close() })
	if err := s3.PutObjects(context.Background(), "charts", helmrepo.ReadTree(t, helmrepo.PodinfoDir(), "podinfo")); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	createSecret(t, ns, "s3", corev1.SecretTypeOpaque, map[string][]byte{"accesskey": []byte(s3.AccessKey()), "secretkey": []byte(s3.SecretKey())})
	b := newBucket(ns, "charts", s3, "charts", nil)
	create(t, b)
	waitReady(t, b)
	obj := newHelmChart(ns, "podinfo", sourcev1.BucketKind, "charts", "podinfo", func(o *sourcev1.HelmChart) {
		o.Spec.ReconcileStrategy = sourcev1.ReconcileStrategyRevision
		o.Spec.ValuesFiles = []string{"podinfo/values-prod.yaml"}
	})
	create(t, obj)
	hex := strings.TrimPrefix(b.Status.Artifact.Revision, "sha256:")
	waitRevision(t, obj, "6.14.1+"+hex[:12]+".1")
	c := loadChart(t, download(t, obj.Status.Artifact))
	if redis, _ := c.Values["redis"].(map[string]any); redis["enabled"] != true {
		t.Errorf("values-prod.yaml not merged: redis = %v", redis)
	}
}
