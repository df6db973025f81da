package controller

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmanager "sigs.k8s.io/controller-runtime/pkg/manager"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/eventsink"
	"gotk.dev/internal/testing/logcapture"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/auth"
	"gotk.dev/pkg/auth/cloud"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/oci"
	"gotk.dev/pkg/options"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/indexcache"
	"gotk.dev/source-controller/internal/ociverify"
	"gotk.dev/source-controller/internal/testsign"
)

// testMaxArtifactSize is the reconcilers' MaxArtifactSize (--artifact-max-size) in this suite:
// every fixture stays far below it, and the size-limit tests go above it.
const testMaxArtifactSize = 1 << 20

// testMaxFileSize is the reconcilers' MaxFileSize (--git-max-file-size): above the artifact
// limit, so an ignored file between the two is cloned and left out of the artifact.
const testMaxFileSize = 8 << 20

// suite is the environment every test shares: a real API server, the manager running every
// reconciler as cmd/main.go wires them, the artifact storage served over HTTP and an
// event receiver standing in for notification-controller. Set once by TestMain, read-only
// afterwards (the recorders inside are safe for concurrent use).
type suite struct {
	env *testenv.Env
	// client is the reconcilers' client: the manager's, counting reads and status writes.
	client  *countingClient
	storage *artifact.Storage
	// workDir is the reconcilers' TmpDir; its parent holds nothing else of ours, so a file
	// appearing next to it was written outside the working directory.
	workDir string
	events  *eventsink.Sink
	// indexCache is the Helm index cache the HelmRepository and HelmChart reconcilers share;
	// indexLoads counts its loads (index parses) per repository ("<namespace>/<name>").
	indexCache *indexcache.Cache
	indexLoads *counter
	// sigstore is the controller-wide private Sigstore: the reconcilers verify keyless
	// signatures of objects naming no trusted root against it, configured through cosign's
	// SIGSTORE_ROOT_FILE and SIGSTORE_REKOR_PUBLIC_KEY as an air-gapped deployment does.
	sigstore *testsign.Sigstore
	// logs is everything the controllers log, at trace level: the credential tests check it.
	logs *logcapture.Buffer
}

// counter counts by key, safely for concurrent use.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// testHelmLimits are the suite's --helm-*-max-size: podinfo fits, the limit tests go above.
var testHelmLimits = helm.Limits{MaxIndexSize: 256 << 10, MaxChartSize: 512 << 10, MaxChartFileSize: 128 << 10}

var suiteEnv *suite

func TestMain(m *testing.M) {
	// Cloud registry host names (ECR, ACR, Artifact Registry) reach local fronts.
	cloudapi.InstallHostRouter()
	testenv.MainFunc(m, testenv.Options{AddToScheme: []func(*runtime.Scheme) error{sourcev1.AddToScheme}}, startSuite)
}

// startSuite starts the manager running the reconcilers as cmd/main.go wires them, the
// artifact server and an event sink; cleanups undo it.
func startSuite(env *testenv.Env, cleanup func(func())) error {
	root, err := os.MkdirTemp("", "source-controller-test-")
	if err != nil {
		return err
	}
	cleanup(func() { os.RemoveAll(root) })

	sink := eventsink.Start()
	cleanup(sink.Close)

	fs := pflag.NewFlagSet("source-controller", pflag.ContinueOnError)
	var opts options.Runtime
	opts.BindFlags(fs, 2)
	if err := fs.Parse([]string{
		"--metrics-addr=0", "--health-addr=0", "--log-level=trace",
		"--events-addr=" + sink.URL,
		"--concurrent=4",
		"--min-retry-delay=200ms", "--max-retry-delay=2s", "--requeue-dependency=1s",
	}); err != nil {
		return err
	}
	if err := opts.Validate(nil); err != nil {
		return err
	}
	logs := &logcapture.Buffer{}
	rt, err := manager.New(manager.Setup{
		Name:      "source-controller",
		Scheme:    env.Scheme,
		Options:   &opts,
		LogOutput: logs,
		Watched: []client.Object{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{},
			&sourcev1.HelmRepository{}, &sourcev1.HelmChart{}, &sourcev1.Bucket{}},
		RESTConfig: env.Config,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	storage, err := artifact.NewStorage(artifact.StorageOptions{
		BasePath: filepath.Join(root, "storage"),
		Hostname: ln.Addr().String(),
	})
	if err != nil {
		return err
	}
	if err := rt.Manager.Add(crmanager.RunnableFunc(func(ctx context.Context) error {
		return storage.ServeListener(ctx, ln)
	})); err != nil {
		return err
	}
	workDir := filepath.Join(root, "work", "tmp")
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return err
	}
	cc := newCountingClient(rt.Manager.GetClient())
	sigstore, err := testsign.StartSigstore()
	if err != nil {
		return err
	}
	cosignEnv, err := sigstore.WriteCosignEnv(root)
	if err != nil {
		return err
	}
	verification := NewVerification(workDir)
	if verification.LocalRoot, err = ociverify.NewLocalRoot("", func(k string) string { return cosignEnv[k] }); err != nil {
		return err
	}
	// The controller's cloud identity: the SDKs' default chains, pointed by each test at
	// the cloudapi servers, trusting their CA.
	cloudLogins := &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 100, MaxDuration: time.Hour}),
		HTTPClient: cloudapi.HTTPClient(), AzureDisableInstanceDiscovery: true}
	gitRepos, err := NewGitRepositoryReconciler(rt, GitConfig{
		CloudLogins:     cloudLogins,
		Client:          cc,
		Storage:         storage,
		Git:             git.NewClient(git.ClientOptions{SSHTimeout: 10 * time.Second}),
		MaxArtifactSize: testMaxArtifactSize,
		MaxFileSize:     testMaxFileSize,
		TmpDir:          workDir,
		TokenCache:      auth.NewTokenCache(auth.CacheOptions{MaxSize: 100, MaxDuration: time.Hour}),
	})
	if err != nil {
		return err
	}
	if err := gitRepos.SetupWithManager(rt); err != nil {
		return err
	}
	ociRepos, err := NewOCIRepositoryReconciler(rt, OCIConfig{
		CloudLogins:     cloudLogins,
		Client:          cc,
		Storage:         storage,
		MaxArtifactSize: testMaxArtifactSize,
		UserAgent:       "source-controller",
		NewClient:       oci.NewClient,
		TmpDir:          workDir,
		Verification:    verification,
	})
	if err != nil {
		return err
	}
	if err := ociRepos.SetupWithManager(rt); err != nil {
		return err
	}

	loads := &counter{m: map[string]int{}}
	cache := indexcache.New(indexcache.Options{MaxEntries: 100, OnEvent: func(e indexcache.Event) {
		if e.Type == indexcache.EventLoad {
			loads.add(e.Key.Repository)
		}
	}})
	helmCfg := HelmConfig{Client: cc, Storage: storage, IndexCache: cache, Limits: testHelmLimits,
		UserAgent: "source-controller", TmpDir: workDir, CloudLogins: cloudLogins, Verification: verification}
	helmRepos, err := NewHelmRepositoryReconciler(rt, helmCfg)
	if err != nil {
		return err
	}
	if err := helmRepos.SetupWithManager(rt); err != nil {
		return err
	}
	helmCharts, err := NewHelmChartReconciler(rt, helmCfg)
	if err != nil {
		return err
	}
	if err := helmCharts.SetupWithManager(rt); err != nil {
		return err
	}
	// Buckets run with the ObjectLevelWorkloadIdentity gate on: spec.serviceAccountName is
	// the identity (bucket_identity_test.go); the other kinds keep it off.
	bucketLogins := &cloud.Logins{Cache: auth.NewTokenCache(auth.CacheOptions{MaxSize: 100, MaxDuration: time.Hour}),
		HTTPClient: cloudapi.HTTPClient(), AzureDisableInstanceDiscovery: true, ObjectLevel: true, Kube: rt.Manager.GetClient()}
	buckets, err := NewBucketReconciler(rt, BucketConfig{Client: cc, Storage: storage, MaxArtifactSize: testMaxArtifactSize, TmpDir: workDir,
		CloudLogins: bucketLogins})
	if err != nil {
		return err
	}
	if err := buckets.SetupWithManager(rt); err != nil {
		return err
	}

	testenv.RunManager(rt.Manager, cleanup)
	suiteEnv = &suite{env: env, client: cc, storage: storage, workDir: workDir, events: sink, indexCache: cache, indexLoads: loads, sigstore: sigstore, logs: logs}
	return nil
}

// countingClient is the manager's client, counting per object the reconciles (each starts
// with a Get of the object) and the status writes, so tests can prove that an unchanged
// source costs no write and that a stalled object is not requeued.
type countingClient struct {
	client.Client
	mu     sync.Mutex
	gets   map[string]int
	writes map[string]int
}

func newCountingClient(c client.Client) *countingClient {
	return &countingClient{Client: c, gets: map[string]int{}, writes: map[string]int{}}
}

func countKey(obj client.Object) string {
	return fmt.Sprintf("%T/%s/%s", obj, obj.GetNamespace(), obj.GetName())
}

func (c *countingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	c.gets[fmt.Sprintf("%T/%s/%s", obj, key.Namespace, key.Name)]++
	c.mu.Unlock()
	return c.Client.Get(ctx, key, obj, opts...)
}

func (c *countingClient) Status() client.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.Client.Status(), c: c}
}

// reads and statusWrites return the counts for obj (only its type, namespace and name matter).
func (c *countingClient) reads(obj client.Object) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[countKey(obj)]
}

func (c *countingClient) statusWrites(obj client.Object) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes[countKey(obj)]
}

type countingStatus struct {
	client.SubResourceWriter
	c *countingClient
}

func (s *countingStatus) count(obj client.Object) {
	s.c.mu.Lock()
	s.c.writes[countKey(obj)]++
	s.c.mu.Unlock()
}

func (s *countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.count(obj)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s *countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.count(obj)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}
