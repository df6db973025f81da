package main

import (
	"fmt"
	"os"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/manager"

	"gotk.dev/source-controller/internal/controller"
	"gotk.dev/source-controller/internal/ociverify"
)

// setupReconcilers builds the reconciler of every source kind and registers it with the
// manager. The HelmRepository and HelmChart reconcilers share one index cache.
func setupReconcilers(rt *manager.Runtime, storage *artifact.Storage, f *flags) error {
	cache, err := newIndexCache(rt, f.helmCache)
	if err != nil {
		return err
	}
	tokens := auth.NewTokenCache(auth.CacheOptions{MaxSize: f.tokenCache.MaxSize, MaxDuration: f.tokenCache.MaxDuration})
	verification := controller.NewVerification("")
	if verification.LocalRoot, err = ociverify.NewLocalRoot(f.sigstoreTrustedRoot, os.Getenv); err != nil {
		return err
	}
	if verification.LocalRoot != nil {
		rt.Log.Info("keyless verification without spec.verify.trustedRootSecretRef uses a private Sigstore", "root", verification.LocalRoot.String())
	}
	logins := &cloud.Logins{Cache: tokens, ObjectLevel: f.runtime.Enabled(controller.FeatureGates(), "ObjectLevelWorkloadIdentity"),
		DefaultServiceAccount: f.defaultServiceAccount, Kube: rt.Manager.GetClient()}
	helmCfg := controller.HelmConfig{Storage: storage, IndexCache: cache, Limits: f.helmLimits, UserAgent: controllerName,
		Verification: verification, CloudLogins: logins}
	type setup interface{ SetupWithManager(*manager.Runtime) error }
	build := []struct {
		kind string
		new  func() (setup, error)
	}{
		{"GitRepository", func() (setup, error) {
			return controller.NewGitRepositoryReconciler(rt, controller.GitConfig{
				Storage: storage, Git: f.git.client(), MaxArtifactSize: f.git.maxArtifactSize, MaxFileSize: f.git.maxGitFileSize,
				AlwaysClone: !f.runtime.Enabled(controller.FeatureGates(), "OptimizedGitClones"),
				TokenCache:  tokens, CloudLogins: logins})
		}},
		{"OCIRepository", func() (setup, error) {
			return controller.NewOCIRepositoryReconciler(rt, controller.OCIConfig{
				Storage: storage, MaxArtifactSize: f.git.maxArtifactSize, UserAgent: controllerName,
				Verification: verification, CloudLogins: logins})
		}},
		{"HelmRepository", func() (setup, error) { return controller.NewHelmRepositoryReconciler(rt, helmCfg) }},
		{"HelmChart", func() (setup, error) { return controller.NewHelmChartReconciler(rt, helmCfg) }},
		{"Bucket", func() (setup, error) {
			return controller.NewBucketReconciler(rt, controller.BucketConfig{Storage: storage, MaxArtifactSize: f.git.maxArtifactSize,
				CloudLogins: logins})
		}},
	}
	for _, b := range build {
		r, err := b.new()
		if err != nil {
			return fmt.Errorf("%s controller: %w", b.kind, err)
		}
		if err := r.SetupWithManager(rt); err != nil {
			return fmt.Errorf("%s controller: %w", b.kind, err)
		}
	}
	return nil
}
