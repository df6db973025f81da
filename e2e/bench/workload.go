package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	// artifactRepo is the registry repository holding the one app artifact every
	// OCIRepository pulls.
	artifactRepo = "apps"
	// serviceAccount is impersonated by every Kustomization; it is bound to ClusterRole admin
	// in the benchmark namespace.
	serviceAccount = "flux"
)

// appName is the name of app i's OCIRepository, Kustomization and deployed objects' prefix.
func appName(i int) string { return "podinfo-" + strconv.Itoa(i) }

// setup creates what flux-benchmark creates once: the namespace, ServiceAccount flux bound
// to ClusterRole admin there, and the app artifact in the registry.
func setup(ctx context.Context, env *framework.Env, cfg Config) (digest string, err error) {
	if _, err := setupNamespace(ctx, env, cfg); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(env.Dir, "bench-app-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "podinfo-app.yaml"), []byte(appManifest), 0o644); err != nil {
		return "", err
	}
	return env.PushArtifact(ctx, artifactRepo, "latest", dir, "gotk-e2e-bench", "")
}

// setupNamespace creates the namespace and ServiceAccount flux bound to ClusterRole admin
// there, which every Kustomization and HelmRelease impersonates.
func setupNamespace(ctx context.Context, env *framework.Env, cfg Config) (string, error) {
	if err := env.CreateNamespace(ctx, cfg.Namespace); err != nil {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount, Namespace: cfg.Namespace}}
	if err := env.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create ServiceAccount %s/%s: %w", cfg.Namespace, serviceAccount, err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: serviceAccount, Namespace: cfg.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: cfg.Namespace}},
	}
	if err := env.Client.Create(ctx, rb); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create RoleBinding %s/%s: %w", cfg.Namespace, serviceAccount, err)
	}
	return serviceAccount, nil
}

func ociRepository(env *framework.Env, cfg Config, i int) *sourcev1.OCIRepository {
	return &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Name: appName(i), Namespace: cfg.Namespace, Labels: cfg.shardLabels(i)},
		Spec: sourcev1.OCIRepositorySpec{
			URL:       env.OCIURL(artifactRepo),
			Reference: &sourcev1.OCIRepositoryRef{Tag: "latest"},
			Interval:  metav1.Duration{Duration: cfg.Interval},
			Insecure:  true,
		},
	}
}

func kustomization(cfg Config, i int) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: appName(i), Namespace: cfg.Namespace, Labels: cfg.shardLabels(i)},
		Spec: kustomizev1.KustomizationSpec{
			Interval:           metav1.Duration{Duration: cfg.Interval},
			RetryInterval:      &metav1.Duration{Duration: 2 * time.Minute},
			Timeout:            &metav1.Duration{Duration: time.Minute},
			Path:               "./",
			Prune:              true,
			Wait:               true,
			ServiceAccountName: serviceAccount,
			TargetNamespace:    cfg.Namespace,
			SourceRef:          kustomizev1.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: appName(i)},
			PostBuild: &kustomizev1.PostBuild{Substitute: map[string]string{
				"INDEX": strconv.Itoa(i), "PODS": "0", "MCPU": "1m",
			}},
		},
	}
}

// forEach runs fn(i) for i in [0, n) on at most workers goroutines, stopping at the first
// error.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(ctx, i) })
	}
	return g.Wait()
}

// create submits the N pairs (or only the OCIRepositories when kustomize-controller does not
// run).
func create(ctx context.Context, env *framework.Env, cfg Config, withKustomizations bool, m *marks) error {
	return forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error {
		m.sent("OCIRepository", appName(i))
		if err := env.Client.Create(ctx, ociRepository(env, cfg, i)); err != nil {
			return fmt.Errorf("create OCIRepository %s/%s: %w", cfg.Namespace, appName(i), err)
		}
		if !withKustomizations {
			return nil
		}
		m.sent("Kustomization", appName(i))
		if err := env.Client.Create(ctx, kustomization(cfg, i)); err != nil {
			return fmt.Errorf("create Kustomization %s/%s: %w", cfg.Namespace, appName(i), err)
		}
		return nil
	})
}

// upgrade sets MCPU=2m on every Kustomization (a merge patch: one request each).
func upgrade(ctx context.Context, env *framework.Env, cfg Config, m *marks) error {
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"postBuild":{"substitute":{"MCPU":"2m"}}}}`))
	return forEach(ctx, cfg.N, cfg.Workers, func(ctx context.Context, i int) error {
		ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: appName(i), Namespace: cfg.Namespace}}
		m.sent("Kustomization", appName(i))
		if err := env.Client.Patch(ctx, ks, patch); err != nil {
			return fmt.Errorf("patch Kustomization %s/%s: %w", cfg.Namespace, appName(i), err)
		}
		return nil
	})
}

// names maps the N app names to generation 1 (a created object's generation).
func names(n int) map[string]int64 {
	out := make(map[string]int64, n)
	for i := range n {
		out[appName(i)] = 1
	}
	return out
}
