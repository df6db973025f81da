package journeys_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxcd/pkg/apis/meta"

	"gotk.dev/e2e/cluster"
	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/ports"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// edgeNS is the hub namespace of the edge spoke: its sources, the ConfigMap describing how to
// reach it, the service account whose tokens it trusts, and the Flux objects deploying to it.
const edgeNS = "edge"

// jwtPattern matches anything shaped like a service account token (a JWT's header and
// payload), to prove none ends up where users and log collectors read.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// TestHubAndSpokeWorkloadIdentity is the hub-and-spoke journey without kubeconfig Secrets:
// the spoke "edge" trusts the hub's service account issuer (published, as a cluster
// publishes its OpenID discovery document) for its own address, and only for the hub's
// service account edge/flux-edge, which the spoke's RBAC binds as
// system:serviceaccount:edge:flux-edge. The hub's Kustomization and HelmRelease name the
// ConfigMap `kubeconfig` (provider generic, address, ca.crt, serviceAccountName) in
// spec.kubeConfig.configMapRef; the controllers request that account's tokens from the hub
// (TokenRequest, audience = the address) and deploy with them.
//
// A Kustomization and a HelmRelease whose ConfigMap names another hub service account,
// which the spoke does not trust, are refused with a condition naming the ConfigMap, the
// spoke's address and the service account. No token appears in status, events or the
// controllers' logs.
func TestHubAndSpokeWorkloadIdentity(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 5*time.Minute)

	issuer, err := env.Cluster.PublishIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	port, err := ports.Free()
	if err != nil {
		t.Fatal(err)
	}
	address := "https://127.0.0.1:" + strconv.Itoa(port)
	const trusted = "system:serviceaccount:" + edgeNS + ":flux-edge"
	trust := issuer.Trust(address)
	trust.Subjects = []string{trusted}
	edge := startSpokeWith(t, ctx, "edge", cluster.Options{APIServerPort: port,
		ServiceAccountIssuer: "https://edge.cluster.local", TrustedIssuers: []cluster.TrustedIssuer{trust}})
	// The spoke's RBAC: the hub's deployer runs the spoke's platform.
	if err := edge.client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-hub"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: trusted}},
	}); err != nil {
		t.Fatal(err)
	}

	createNamespace(t, ctx, edgeNS)
	for _, sa := range []string{"flux-edge", "intruder"} {
		apply(t, ctx, &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: metav1.ObjectMeta{Namespace: edgeNS, Name: sa}})
	}
	ca := string(edge.cluster.Config.CAData)
	apply(t, ctx, workloadIdentityConfigMap("kubeconfig", address, ca, "flux-edge"))
	apply(t, ctx, workloadIdentityConfigMap("kubeconfig-intruder", address, ca, "intruder"))

	if _, err := env.PushArtifact(ctx, "edge-podinfo-chart", podinfoChartVersion, helmrepo.PodinfoDir(), "gotk-e2e", ""); err != nil {
		t.Fatal(err)
	}
	apply(t, ctx, &sourcev1.OCIRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.OCIRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: edgeNS, Name: "podinfo-chart"},
		Spec: sourcev1.OCIRepositorySpec{URL: env.OCIURL("edge-podinfo-chart"), Insecure: true,
			Reference: &sourcev1.OCIRepositoryRef{Tag: podinfoChartVersion}, Interval: metav1.Duration{Duration: longInterval}},
	})
	files, err := framework.ReadTree("testdata/hubspoke")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := env.CreateGitRepo("edge")
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit(files, "Hub and an edge spoke reached by workload identity")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ctx, gitRepository(edgeNS, "fleet", repo.HTTPURL))
	apply(t, ctx, kustomization(edgeNS, "edge", sourcev1.GitRepositoryKind, "fleet", "./clusters/edge"))

	infra := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: edgeNS, Name: "infrastructure"}}
	waitApplied(t, ctx, infra, repo.Revision(first), 3*time.Minute)
	waitRelease(t, ctx, &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: edgeNS, Name: "podinfo"}}, 1, 3*time.Minute)
	edge.waitConfigMap(t, ctx, "platform", "cluster-info", "environment", "edge", 10*time.Second)
	if err := waitSpokeDeployment(ctx, edge, "apps", "podinfo", time.Minute); err != nil {
		t.Error(err)
	}
	if err := waitSpokeDeployment(ctx, edge, "platform", "edge-proxy", time.Minute); err != nil {
		t.Error(err)
	}
	if _, ok := getConfigMap(t, ctx, "platform", "cluster-info"); ok {
		t.Error("ConfigMap platform/cluster-info is on the hub")
	}
	mustGet(t, ctx, infra)
	t.Logf("edge infrastructure: %s", condition(infra, "Ready").Message)

	t.Run("a service account the spoke does not trust is refused", func(t *testing.T) {
		ks := kustomization(edgeNS, "intruder", sourcev1.GitRepositoryKind, "fleet", "./infrastructure/edge")
		ks.Spec.KubeConfig = &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "kubeconfig-intruder"}}
		apply(t, ctx, ks)
		hr := &helmv2.HelmRelease{
			TypeMeta:   metav1.TypeMeta{APIVersion: helmv2.GroupVersion.String(), Kind: helmv2.HelmReleaseKind},
			ObjectMeta: metav1.ObjectMeta{Namespace: edgeNS, Name: "intruder"},
			Spec: helmv2.HelmReleaseSpec{
				Interval:        metav1.Duration{Duration: longInterval},
				ChartRef:        &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "podinfo-chart"},
				KubeConfig:      &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "kubeconfig-intruder"}},
				TargetNamespace: "intruder", StorageNamespace: "intruder",
			},
		}
		apply(t, ctx, hr)
		want := []string{"kubeconfig configmap '" + edgeNS + "/kubeconfig-intruder'", address,
			"service account '" + edgeNS + "/intruder'", "401 Unauthorized"}
		refused := func(obj interface {
			GetConditions() []metav1.Condition
		}) func() (bool, string) {
			return func() (bool, string) {
				ready := condition(obj, "Ready")
				if ready == nil || ready.Status != metav1.ConditionFalse {
					return false, "Ready is not False"
				}
				for _, w := range want {
					if !strings.Contains(ready.Message, w) {
						return false, "Ready message does not say " + w + ": " + ready.Message
					}
				}
				return true, ""
			}
		}
		waitFor(t, ctx, ks, time.Minute, "the intruder Kustomization to be refused", refused(ks))
		t.Logf("Kustomization refused: %s", condition(ks, "Ready").Message)
		waitFor(t, ctx, hr, time.Minute, "the intruder HelmRelease to be refused", refused(hr))
		t.Logf("HelmRelease refused: %s", condition(hr, "Ready").Message)
		if ev := hubEvent(t, ctx, edgeNS, "Kustomization", "intruder", "kubeconfig-intruder"); ev == nil {
			t.Error("no event on the hub naming the ConfigMap of the refused Kustomization")
		}
		for _, ns := range []string{"intruder"} {
			if err := edge.client.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}); err == nil {
				t.Errorf("namespace %s exists on the spoke: the refused HelmRelease installed", ns)
			}
		}
	})

	t.Run("no token in status, events or logs", func(t *testing.T) {
		var where []string
		check := func(what string, data []byte) {
			if jwtPattern.Match(data) {
				where = append(where, what)
			}
		}
		for what, list := range map[string]client.ObjectList{
			"Kustomizations": &kustomizev1.KustomizationList{}, "HelmReleases": &helmv2.HelmReleaseList{}, "Events": &corev1.EventList{},
		} {
			if err := env.Client.List(ctx, list, client.InNamespace(edgeNS)); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(list)
			if err != nil {
				t.Fatal(err)
			}
			check(what+" of "+edgeNS, b)
		}
		for _, name := range []string{"kustomize-controller", "helm-controller"} {
			b, err := os.ReadFile(env.Controllers[name].Logs)
			if err != nil {
				t.Fatal(err)
			}
			check(name+" log", b)
		}
		if len(where) > 0 {
			t.Errorf("a token appears in: %s", strings.Join(where, ", "))
		}
	})
}

// workloadIdentityConfigMap is the hub's ConfigMap for spec.kubeConfig.configMapRef with
// provider generic: the spoke's address and CA, and the hub service account whose tokens
// reach it (audience: the address, the default).
func workloadIdentityConfigMap(name, address, ca, serviceAccount string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: edgeNS, Name: name},
		Data:       map[string]string{"provider": "generic", "address": address, "ca.crt": ca, "serviceAccountName": serviceAccount},
	}
}
