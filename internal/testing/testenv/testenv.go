// Package testenv starts a real kube-apiserver and etcd (controller-runtime envtest) with every
// Flux CRD and the testkind CRD installed, for controller and SDK tests. The binaries come
// from `make testbin` ($KUBEBUILDER_ASSETS, else bin/ at the repository root).
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"gotk.dev/internal/testing/testkind"
	"gotk.dev/internal/testing/workspace"
)

// Env is a running API server with the CRDs installed.
type Env struct {
	env *envtest.Environment
	// Config is an admin (system:masters) REST config.
	Config *rest.Config
	// Client is a controller-runtime client (no cache) knowing the kinds of Scheme.
	Client client.Client
	// Scheme is Options.Scheme, or the default one.
	Scheme *runtime.Scheme
	// Root is the repository root (the directory holding go.work).
	Root string
}

// Options configures Start.
type Options struct {
	// Scheme holds the kinds the tests read and write. Nil means DefaultScheme: the built-in
	// Kubernetes kinds, CustomResourceDefinitions and TestObject. A controller's tests pass
	// a scheme with their API types.
	Scheme *runtime.Scheme
	// AddToScheme adds more kinds (a controller's API types) to Scheme, or to the default
	// scheme when Scheme is nil.
	AddToScheme []func(*runtime.Scheme) error
	// CRDDirs are more directories of CRD manifests to install (a third party's kinds),
	// relative to the repository root.
	CRDDirs []string
}

// DefaultScheme returns a new scheme with the built-in Kubernetes kinds,
// CustomResourceDefinitions and testkind's TestObject.
func DefaultScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, testkind.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start starts etcd and kube-apiserver and installs manifests/crds and testkind's CRD. Call
// Stop when done.
func Start(opts Options) (*Env, error) {
	root, err := workspace.Root()
	if err != nil {
		return nil, err
	}
	assets := workspace.BinDir()
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make testbin` to build the local control plane", bin, assets)
		}
	}
	s := opts.Scheme
	if s == nil {
		if s, err = DefaultScheme(); err != nil {
			return nil, err
		}
	}
	for _, add := range opts.AddToScheme {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths: append([]string{
			filepath.Join(root, "manifests", "crds"),
			filepath.Join(root, "internal", "testing", "testkind", "crd"),
		}, crdDirs(root, opts.CRDDirs)...),
		ErrorIfCRDPathMissing: true,
		// envtest's 20s default is too short for a cold kube-apiserver on a loaded 2-core
		// machine (many test binaries start their own at once).
		ControlPlaneStartTimeout: 2 * time.Minute,
		Scheme:                   s,
	}
	api := env.ControlPlane.GetAPIServer()
	// envtest defaults to a /24 service range, which runs out at ~250 Services.
	api.Configure().Set("service-cluster-ip-range", "10.96.0.0/12")
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest (binaries from %s): %w", assets, err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{env: env, Config: cfg, Client: c, Scheme: s, Root: root}, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.env.Stop() }

// Kubeconfig writes a kubeconfig for this API server's admin user to a file in dir.
func (e *Env) Kubeconfig(dir string) (string, error) {
	user, err := e.env.ControlPlane.AddUser(envtest.User{Name: "testenv-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	b, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}

func crdDirs(root string, dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = filepath.Join(root, d)
	}
	return out
}
