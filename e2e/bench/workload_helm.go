package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/helmrepo"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	// chartRepo is the registry repository of the podinfo chart every HelmRelease releases.
	chartRepo = "charts/podinfo"
	// chartVersion is the version of the shared podinfo chart fixture, also its OCI tag
	// (helm-controller checks the tag against the chart's version).
	chartVersion = "6.14.1"
	// chartSource is the one OCIRepository all HelmReleases take the chart from.
	chartSource = "podinfo-chart"
)

// setupHelm creates what the HelmRelease workload needs once: the namespace and the
// ServiceAccount (setup), the podinfo chart in the registry and one OCIRepository of it.
func setupHelm(ctx context.Context, env *framework.Env, cfg Config) (string, error) {
	if _, err := setupNamespace(ctx, env, cfg); err != nil {
		return "", err
	}
	digest, err := env.PushArtifact(ctx, chartRepo, chartVersion, helmrepo.PodinfoDir(), "gotk-e2e-bench", "")
	if err != nil {
		return "", err
	}
	src := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Name: chartSource, Namespace: cfg.Namespace},
		Spec: sourcev1.OCIRepositorySpec{
			URL: env.OCIURL(chartRepo), Insecure: true,
			Reference: &sourcev1.OCIRepositoryRef{Tag: chartVersion},
			Interval:  metav1.Duration{Duration: 60 * time.Minute},
		},
	}
	if err := env.Client.Create(ctx, src); err != nil {
		return "", fmt.Errorf("create OCIRepository %s/%s: %w", cfg.Namespace, chartSource, err)
	}
	return digest, env.WaitReady(ctx, src, 2*time.Minute)
}

// helmRelease is app i as flux-benchmark's HelmRelease module renders it (release name,
// impersonated ServiceAccount, target and storage namespace, CRD policies, values: no
// replicas, a ServiceAccount, an Ingress, CPU request MCPU), with its chart from the shared
// OCIRepository and, as the issue asks, drift detection enabled.
func helmRelease(cfg Config, i int) *helmv2.HelmRelease {
	return &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: appName(i), Namespace: cfg.Namespace},
		Spec: helmv2.HelmReleaseSpec{
			ReleaseName:        appName(i),
			ServiceAccountName: serviceAccount,
			TargetNamespace:    cfg.Namespace,
			StorageNamespace:   cfg.Namespace,
			Interval:           metav1.Duration{Duration: 60 * time.Minute},
			ChartRef:           &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: chartSource},
			Install:            &helmv2.Install{CRDs: helmv2.Create},
			Upgrade:            &helmv2.Upgrade{CRDs: helmv2.CreateReplace},
			DriftDetection:     &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled},
			Values:             &apiextensionsv1.JSON{Raw: helmValues("1m")},
		},
	}
}

func helmValues(mcpu string) []byte {
	return fmt.Appendf(nil, `{"replicaCount":0,"serviceAccount":{"enabled":true},"ingress":{"enabled":true,"className":"nginx"},"resources":{"requests":{"cpu":%q,"memory":"16Mi"}}}`, mcpu)
}

// createHelm submits the N HelmReleases.
func createHelm(ctx context.Context, env *framework.Env, cfg Config) error {
	return forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error {
		if err := env.Client.Create(ctx, helmRelease(cfg, i)); err != nil {
			return fmt.Errorf("create HelmRelease %s/%s: %w", cfg.Namespace, appName(i), err)
		}
		return nil
	})
}

// upgradeHelm sets the CPU request to 2m in every HelmRelease's values (one merge patch
// each), as flux-benchmark's MCPU=2 upgrade does.
func upgradeHelm(ctx context.Context, env *framework.Env, cfg Config) error {
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"values":{"resources":{"requests":{"cpu":"2m"}}}}}`))
	return forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error {
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: appName(i), Namespace: cfg.Namespace}}
		if err := env.Client.Patch(ctx, hr, patch); err != nil {
			return fmt.Errorf("patch HelmRelease %s/%s: %w", cfg.Namespace, appName(i), err)
		}
		return nil
	})
}

// checkHelmUpgraded spot-checks that the upgrade reached the cluster: the first and the
// last release's Deployment request 2m CPU, and the release is at version 2.
func checkHelmUpgraded(ctx context.Context, env *framework.Env, cfg Config) error {
	for _, i := range []int{0, cfg.N - 1} {
		if err := checkDeploymentCPU(ctx, env, cfg.Namespace, appName(i), "2m"); err != nil {
			return err
		}
		var secrets corev1.SecretList
		if err := env.Client.List(ctx, &secrets, client.InNamespace(cfg.Namespace),
			client.MatchingLabels{"owner": "helm", "name": appName(i), "status": "deployed"}); err != nil {
			return err
		}
		if len(secrets.Items) != 1 || secrets.Items[0].Labels["version"] != "2" {
			return fmt.Errorf("upgrade check: release %s is not deployed at version 2: %v", appName(i), secrets.Items)
		}
	}
	return nil
}
