// Package framework runs the end-to-end environment the journeys and the benchmark use: a
// local Kubernetes cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok nodes, from `make testbin`) with the Flux CRDs, a real Git server (git http-backend
// over smart HTTP, and OpenSSH), a real OCI registry (distribution), and Flux controllers as
// processes with the arguments of their install manifests. Everything listens on 127.0.0.1
// on free ports and lives in one temporary directory.
//
// Which controllers run, from which binary and with which extra flags is configuration, so
// the same suite can measure any controllers that speak the Flux API:
//
//	GOTK_E2E_CONTROLLERS=source-controller,kustomize-controller
//	GOTK_E2E_SOURCE_CONTROLLER_BIN=/path/to/source-controller   (default: go build from here)
//	GOTK_E2E_SOURCE_CONTROLLER_ARGS="--concurrent=10"
//	GOTK_E2E_KEEP=1                                              (keep the state directory)
//	GOTK_E2E_LOGS_DIR=/tmp/e2e-logs                              (where failed runs' logs go)
//
// A test:
//
//	opts, err := framework.OptionsFromEnv(nil)
//	env := framework.Setup(t, opts)
//	repo, _ := env.CreateGitRepo("app")
//	hash, _ := repo.Commit(map[string]string{"deploy/cm.yaml": cm}, "add")
//	env.Apply(ctx, gitRepositoryYAML(repo.HTTPURL))
//	env.WaitReady(ctx, &sourcev1.GitRepository{ObjectMeta: ...}, time.Minute)
package framework
