package journeys_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	fleetNS         = framework.RuntimeNamespace // bootstrap puts the sync objects in flux-system
	fleetGitURLMark = "__GIT_URL__"
	fleetSyncFile   = "clusters/staging/flux-system/gotk-sync.yaml"
	acmeStaging     = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// TestFleetStaging is journey 1: a repository shaped like flux2-kustomize-helm-example
// (testdata/fleet, with plain manifests in place of HelmReleases) is pushed to the Git
// server and bootstrapped the way `flux bootstrap` leaves a cluster: a flux-system SSH
// Secret and the gotk-sync.yaml objects (GitRepository flux-system over SSH, Kustomization
// flux-system for ./clusters/staging, which then manages itself). Everything becomes Ready in
// dependency order: infra-controllers, then infra-configs (whose ClusterIssuer needs the CRD
// infra-controllers installs), then apps; the staging patches are applied, .sourceignore
// keeps the README out of the artifact, and each inventory lists exactly its objects.
func TestFleetStaging(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 3*time.Minute)

	files, err := framework.ReadTree("testdata/fleet")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := env.CreateGitRepo("fleet-infra")
	if err != nil {
		t.Fatal(err)
	}
	sync := strings.ReplaceAll(files[fleetSyncFile], fleetGitURLMark, repo.SSHURL)
	if sync == files[fleetSyncFile] {
		t.Fatalf("%s has no %s placeholder", fleetSyncFile, fleetGitURLMark)
	}
	files[fleetSyncFile] = sync
	hash, err := repo.Commit(files, "Add staging cluster")
	if err != nil {
		t.Fatal(err)
	}
	revision := repo.Revision(hash)

	// Bootstrap: the deploy key Secret, then gotk-sync.yaml.
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: fleetNS},
		Data:       env.SSHSecretData(),
	}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	order := watchReadyOrder(t, ctx, fleetNS)
	if _, err := env.Apply(ctx, sync); err != nil {
		t.Fatal(err)
	}

	src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: fleetNS}}
	waitArtifact(t, ctx, src, revision, time.Minute)
	names := []string{"flux-system", "infra-controllers", "infra-configs", "apps"}
	ks := map[string]*kustomizev1.Kustomization{}
	for _, name := range names {
		ks[name] = &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fleetNS}}
		waitApplied(t, ctx, ks[name], revision, 2*time.Minute)
	}

	t.Run("dependency order", func(t *testing.T) {
		got, waited, closedEarly := order.snapshot()
		if closedEarly {
			t.Fatalf("the watch of Kustomizations ended early; Ready order so far: %v", got)
		}
		t.Logf("first Ready, in watch order: %v; reported DependencyNotReady on the way: %v", got, waited)
		for _, pair := range [][2]string{{"infra-controllers", "infra-configs"}, {"infra-configs", "apps"}} {
			before, after := index(got, pair[0]), index(got, pair[1])
			if before < 0 || after < 0 || before > after {
				t.Errorf("%s became Ready before %s (watch order %v); dependsOn should order them", pair[1], pair[0], got)
			}
			// The Ready conditions' transition times (one-second resolution) must agree.
			tb, ta := condition(ks[pair[0]], "Ready").LastTransitionTime, condition(ks[pair[1]], "Ready").LastTransitionTime
			if ta.Before(&tb) {
				t.Errorf("Ready of %s at %s is before Ready of %s at %s", pair[1], ta, pair[0], tb)
			}
		}
	})

	t.Run("bootstrap objects manage themselves", func(t *testing.T) {
		mustGet(t, ctx, src)
		if got := src.Labels["toolkit.fluxcd.io/tenant"]; got != "sre-team" {
			t.Errorf("GitRepository flux-system label toolkit.fluxcd.io/tenant=%q, want sre-team (clusters/staging/flux-system/kustomization.yaml labels)", got)
		}
		if got := src.Labels[ownerNameLabel]; got != "flux-system" {
			t.Errorf("GitRepository flux-system %s=%q, want flux-system (applied by the Kustomization it feeds)", ownerNameLabel, got)
		}
		want := []string{
			inventoryID(fleetNS, "apps", kustomizev1.GroupVersion.Group, "Kustomization"),
			inventoryID(fleetNS, "flux-system", kustomizev1.GroupVersion.Group, "Kustomization"),
			inventoryID(fleetNS, "flux-system", sourcev1.GroupVersion.Group, "GitRepository"),
			inventoryID(fleetNS, "infra-configs", kustomizev1.GroupVersion.Group, "Kustomization"),
			inventoryID(fleetNS, "infra-controllers", kustomizev1.GroupVersion.Group, "Kustomization"),
		}
		slices.Sort(want)
		if got := inventoryIDs(ks["flux-system"]); !slices.Equal(got, want) {
			t.Errorf("flux-system inventory: %s", diffSets(want, got))
		}
	})

	t.Run("sourceignore", func(t *testing.T) {
		names, err := artifactFiles(ctx, src.Status.Artifact.URL)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(names, "README.md") {
			t.Errorf("artifact has README.md, which .sourceignore excludes: %v", names)
		}
		for _, want := range []string{"clusters/staging/apps.yaml", "apps/base/podinfo/release.yaml", "infrastructure/configs/cluster-issuers.yaml"} {
			if !slices.Contains(names, want) {
				t.Errorf("artifact lacks %s: %v", want, names)
			}
		}
	})

	t.Run("infrastructure", func(t *testing.T) {
		for _, ns := range []string{"cert-manager", "ingress-nginx"} {
			var n corev1.Namespace
			mustGet(t, ctx, namespaced(&n, "", ns))
			if n.Labels["toolkit.fluxcd.io/tenant"] != "sre-team" || n.Labels[ownerNameLabel] != "infra-controllers" {
				t.Errorf("Namespace %s labels %v", ns, n.Labels)
			}
		}
		for _, d := range [][2]string{{"cert-manager", "cert-manager"}, {"ingress-nginx", "ingress-nginx-controller"}} {
			if err := env.WaitDeploymentAvailable(ctx, d[0], d[1], 5*time.Second); err != nil {
				t.Errorf("infra-controllers is Ready with wait: true, but: %v", err)
			}
		}
		var svc corev1.Service
		mustGet(t, ctx, namespaced(&svc, "ingress-nginx", "ingress-nginx-controller"))
		if svc.Spec.Type != corev1.ServiceTypeNodePort || len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].NodePort == 0 {
			t.Errorf("ingress-nginx Service: type %s ports %+v, want NodePort with node ports", svc.Spec.Type, svc.Spec.Ports)
		}
		issuer := &unstructured.Unstructured{}
		issuer.SetAPIVersion("cert-manager.io/v1")
		issuer.SetKind("ClusterIssuer")
		if err := env.Client.Get(ctx, types.NamespacedName{Name: "letsencrypt"}, issuer); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := unstructured.NestedString(issuer.Object, "spec", "acme", "server"); got != acmeStaging {
			t.Errorf("ClusterIssuer letsencrypt spec.acme.server %q, want %q (the JSON patch of clusters/staging/infrastructure.yaml)", got, acmeStaging)
		}
		want := []string{inventoryID("", "letsencrypt", "cert-manager.io", "ClusterIssuer")}
		if got := inventoryIDs(ks["infra-configs"]); !slices.Equal(got, want) {
			t.Errorf("infra-configs inventory: %s", diffSets(want, got))
		}
	})

	t.Run("apps with the staging overlay", func(t *testing.T) {
		cm, ok := getConfigMap(t, ctx, "podinfo", "podinfo-values")
		if !ok {
			t.Fatal("ConfigMap podinfo/podinfo-values not found")
		}
		want := map[string]string{"ui.message": "staging", "ingress.host": "podinfo.staging", "redis.enabled": "true"}
		for k, v := range want {
			if cm.Data[k] != v {
				t.Errorf("podinfo-values %s=%q, want %q (data %v)", k, cm.Data[k], v, cm.Data)
			}
		}
		var ing networkingv1.Ingress
		mustGet(t, ctx, namespaced(&ing, "podinfo", "podinfo"))
		if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "podinfo.staging" {
			t.Errorf("Ingress podinfo rules %+v, want host podinfo.staging", ing.Spec.Rules)
		}
		for _, name := range []string{"podinfo", "podinfo-redis"} {
			if err := env.WaitDeploymentAvailable(ctx, "podinfo", name, 5*time.Second); err != nil {
				t.Errorf("apps is Ready with wait: true, but: %v", err)
			}
		}
		var d appsv1.Deployment
		mustGet(t, ctx, namespaced(&d, "podinfo", "podinfo"))
		if d.Labels[ownerNameLabel] != "apps" || d.Labels[ownerNamespaceLabel] != fleetNS {
			t.Errorf("Deployment podinfo/podinfo owner labels %v", d.Labels)
		}
		wantInv := []string{
			inventoryID("", "podinfo", "", "Namespace"),
			inventoryID("podinfo", "podinfo", "", "Service"),
			inventoryID("podinfo", "podinfo", "apps", "Deployment"),
			inventoryID("podinfo", "podinfo", "networking.k8s.io", "Ingress"),
			inventoryID("podinfo", "podinfo-redis", "", "Service"),
			inventoryID("podinfo", "podinfo-redis", "apps", "Deployment"),
			inventoryID("podinfo", "podinfo-values", "", "ConfigMap"),
		}
		slices.Sort(wantInv)
		if got := inventoryIDs(ks["apps"]); !slices.Equal(got, wantInv) {
			t.Errorf("apps inventory: %s", diffSets(wantInv, got))
		}
	})
}

// namespaced sets obj's namespace and name and returns it.
func namespaced[T client.Object](obj T, namespace, name string) T {
	obj.SetNamespace(namespace)
	obj.SetName(name)
	return obj
}

// artifactFiles downloads a source artifact (a .tar.gz served by source-controller) and
// lists its regular files.
func artifactFiles(ctx context.Context, url string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", url, err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("artifact %s: %w", url, err)
		}
		if h.Typeflag == tar.TypeReg {
			names = append(names, strings.TrimPrefix(h.Name, "./"))
		}
	}
}
