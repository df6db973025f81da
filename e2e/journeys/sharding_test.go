package journeys_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	helmv2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/internal/testing/helmrepo"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	shardingPath  = "clusters/sharded"
	shardingAppNS = "sharded-apps"
	shard         = "shard1"
	// primarySelector and shardSelector are the flags upstream's sharding guide gives the
	// primary controllers and shard1's.
	primarySelector = "--watch-label-selector=!" + framework.ShardKeyLabel
	shardSelector   = "--watch-label-selector=" + framework.ShardKeyLabel + "=" + shard
)

// shardedControllers are the controllers the sharding journey runs as processes, primary and
// shard: the ones that reconcile its sources, Kustomizations and HelmReleases. The other
// Deployment of the installation (notification-controller) only runs on kwok.
var shardedControllers = []string{"source-controller", "kustomize-controller", "helm-controller"}

// machineFlags are the flags of a controller Deployment that name addresses, paths or
// replicas of a Pod; a process on this machine gets its own (framework.argsFor).
var machineFlags = []string{"--events-addr", "--storage-path", "--storage-addr", "--storage-adv-addr",
	"--metrics-addr", "--health-addr", "--enable-leader-election", "--kubeconfig"}

// TestSharding is the sharding journey of upstream's guide on its own cluster (the shared
// one's controllers watch every object): Flux is bootstrapped, then bootstrap is re-run with
// --shards=shard1, which only commits the new components to Git (the cluster already
// applies them from there). The primary kustomize-controller applies them: shard1's
// source-, kustomize- and helm-controller Deployments, and the primary Deployments now
// scoped with --watch-label-selector=!sharding.fluxcd.io/key. The test rolls the
// Deployments out the way their Pods would start (kwok runs no containers): the primary
// processes restart with their Deployments' new flags, and shard processes start with the
// flags of theirs.
//
// Then an app labelled sharding.fluxcd.io/key=shard1 (a GitRepository and Kustomization, an
// OCIRepository chart and HelmRelease) is reconciled by shard1 only (its artifacts are
// served by shard1's source-controller, only shard1's kustomize- and helm-controller log it,
// and with shard1's kustomize-controller stopped its new revision waits for it), and an
// unlabelled app by the primary only.
func TestSharding(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the journeys need the local cluster: skipped in -short mode")
	}
	if err := suite.start(); err != nil { // the controllers' and the CLI's builds are shared
		t.Fatal(err)
	}
	opts := framework.Options{Binaries: suite.bins}
	for _, name := range shardedControllers {
		opts.Controllers = append(opts.Controllers, framework.ControllerFromEnv(name, nil))
	}
	opts.Logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s sharded: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
	env := framework.Setup(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	begin := time.Now()
	t.Cleanup(func() { t.Logf("journey %s took %s", t.Name(), time.Since(begin).Round(time.Millisecond)) })

	fleet, err := env.CreateGitRepo("sharded-fleet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.Commit(map[string]string{shardingPath + "/README.md": "A sharded cluster.\n"}, "Add the cluster"); err != nil {
		t.Fatal(err)
	}
	bootstrap := []string{"bootstrap", "git", "--url=" + fleet.HTTPURL, "--allow-insecure-http", "--password=unused",
		"--path=" + shardingPath, "--timeout=2m"}
	fluxCLI(t, ctx, env, bootstrap...)
	sync := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: framework.RuntimeNamespace, Name: "flux-system"}}
	mustGetIn(t, ctx, env, sync)
	installed := sync.Status.LastAppliedRevision

	out := fluxCLI(t, ctx, env, append(bootstrap, "--shards="+shard)...)
	if strings.Contains(out, "installing components") {
		t.Errorf("bootstrap --shards installed the components itself, want the cluster to apply them from Git:\n%s", out)
	}
	mustGetIn(t, ctx, env, sync)
	if sync.Status.LastAppliedRevision == installed {
		t.Fatalf("the sync Kustomization still applies %s after bootstrap --shards", installed)
	}

	t.Run("the primary applied the shard Deployments from Git", func(t *testing.T) {
		for _, name := range []string{"source-controller", "kustomize-controller", "helm-controller"} {
			d := fluxDeployment(t, ctx, env, name+"-"+shard)
			if got := d.Labels["kustomize.toolkit.fluxcd.io/name"]; got != "flux-system" {
				t.Errorf("Deployment %s is not applied by the flux-system Kustomization (label %q)", d.Name, got)
			}
			// The CLI did not write it: only the primary (and the Deployment controller's
			// status and revision) did.
			if i := slices.IndexFunc(d.ManagedFields, func(f metav1.ManagedFieldsEntry) bool {
				return f.Manager != "kustomize-controller" && f.Manager != "kube-controller-manager"
			}); i >= 0 {
				t.Errorf("Deployment %s has fields of %s: only the primary kustomize-controller may have applied it", d.Name, d.ManagedFields[i].Manager)
			}
			if args := containerArgs(d); !slices.Contains(args, shardSelector) {
				t.Errorf("Deployment %s args %v lack %s", d.Name, args, shardSelector)
			}
			if d.Annotations["sharding.fluxcd.io/role"] != "shard" {
				t.Errorf("Deployment %s is not annotated sharding.fluxcd.io/role=shard", d.Name)
			}
			if args := containerArgs(fluxDeployment(t, ctx, env, name)); !slices.Contains(args, primarySelector) {
				t.Errorf("Deployment %s args %v lack %s", name, args, primarySelector)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	// Roll out: the primary Pods restart with their new flags, the shard Pods start.
	for _, name := range shardedControllers {
		if err := env.Controllers[name].RestartWith(ctx, portableFlags(fluxDeployment(t, ctx, env, name))...); err != nil {
			t.Fatal(err)
		}
		c := framework.ControllerOptions{Name: name, Shard: shard, Args: portableFlags(fluxDeployment(t, ctx, env, name+"-"+shard))}
		if _, err := env.StartController(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	if err := env.CreateNamespace(ctx, shardingAppNS); err != nil {
		t.Fatal(err)
	}
	if _, err := env.PushArtifact(ctx, "podinfo-chart", podinfoChartVersion, helmrepo.PodinfoDir(), "gotk-e2e", ""); err != nil {
		t.Fatal(err)
	}
	apps := map[string]*shardedApp{"primary-app": {}, "shard1-app": {shard: shard}}
	for name, app := range apps {
		app.deploy(t, ctx, env, name)
	}
	for name, app := range apps {
		waitAppliedIn(t, ctx, env, app.ks, app.repo.Revision(app.first))
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: shardingAppNS, Name: name}}
		waitIn(t, ctx, env, hr, waitTime, "HelmRelease "+name+" to install", readyAnd(hr, func() (bool, string) {
			if hr.Status.History.Latest() == nil {
				return false, "no release yet"
			}
			return true, ""
		}))
		instance := "source-controller"
		if app.shard != "" {
			instance += "-" + app.shard
		}
		for _, src := range []source{
			&sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: shardingAppNS, Name: name}},
			&sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: shardingAppNS, Name: name + "-chart"}},
		} {
			mustGetIn(t, ctx, env, src)
			u, err := url.Parse(src.GetArtifact().URL)
			if err != nil {
				t.Fatal(err)
			}
			if want := env.Controllers[instance].StorageAddr; u.Host != want {
				t.Errorf("%T %s's artifact is served from %s, want %s's %s", src, src.GetName(), u.Host, instance, want)
			}
		}
	}

	t.Run("each app is reconciled by its own instance only", func(t *testing.T) {
		for instance, own := range map[string]string{
			"kustomize-controller": "primary-app", "kustomize-controller-" + shard: "shard1-app",
			"helm-controller": "primary-app", "helm-controller-" + shard: "shard1-app",
		} {
			b, err := os.ReadFile(env.Controllers[instance].Logs)
			if err != nil {
				t.Fatal(err)
			}
			for name := range apps {
				mentions := strings.Contains(string(b), `"name":"`+name+`"`)
				if mentions != (name == own) {
					t.Errorf("%s's log mentions %s: %v, want %v", instance, name, mentions, name == own)
				}
			}
		}
	})

	t.Run("the primary does not take over a stopped shard's objects", func(t *testing.T) {
		shardKC := env.Controllers["kustomize-controller-"+shard]
		shardKC.Stop()
		for _, app := range apps {
			app.commit(t, ctx, env, "2")
		}
		primary := apps["primary-app"]
		waitAppliedIn(t, ctx, env, primary.ks, primary.repo.Revision(primary.second))
		// The shard's source-controller still runs: the new revision is there to apply.
		sharded := apps["shard1-app"]
		src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: shardingAppNS, Name: "shard1-app"}}
		waitArtifactIn(t, ctx, env, src, sharded.repo.Revision(sharded.second))
		time.Sleep(5 * time.Second)
		mustGetIn(t, ctx, env, sharded.ks)
		if got := sharded.ks.Status.LastAppliedRevision; got != sharded.repo.Revision(sharded.first) {
			t.Errorf("with shard1's kustomize-controller stopped, shard1-app applied %s", got)
		}
		if err := shardKC.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		waitAppliedIn(t, ctx, env, sharded.ks, sharded.repo.Revision(sharded.second))
	})
}

// shardedApp is one app of the sharding journey: its Git repository, GitRepository and
// Kustomization, labelled with shard's key unless shard is "".
type shardedApp struct {
	shard         string
	repo          *framework.GitRepo
	first, second string
	ks            *kustomizev1.Kustomization
}

func (a *shardedApp) deploy(t *testing.T, ctx context.Context, env *framework.Env, name string) {
	t.Helper()
	var err error
	if a.repo, err = env.CreateGitRepo(name); err != nil {
		t.Fatal(err)
	}
	a.first = a.commitFiles(t, name, "1")
	src := gitRepository(shardingAppNS, name, a.repo.HTTPURL)
	a.ks = kustomization(shardingAppNS, name, sourcev1.GitRepositoryKind, name, "./")
	src.Labels, a.ks.Labels = a.labels(), a.labels()
	chart := &sourcev1.OCIRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.OCIRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: shardingAppNS, Name: name + "-chart", Labels: a.labels()},
		Spec: sourcev1.OCIRepositorySpec{URL: env.OCIURL("podinfo-chart"), Insecure: true,
			Reference: &sourcev1.OCIRepositoryRef{Tag: podinfoChartVersion}, Interval: metav1.Duration{Duration: longInterval}},
	}
	hr := helmRelease(t, shardingAppNS, name, chart.Name, "replicaCount: 1\n")
	hr.Labels = a.labels()
	for _, obj := range []client.Object{src, a.ks, chart, hr} {
		if err := env.ApplyObject(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

// labels are the app's objects' labels: its shard's key, if any.
func (a *shardedApp) labels() map[string]string {
	if a.shard == "" {
		return nil
	}
	return map[string]string{framework.ShardKeyLabel: a.shard}
}

func (a *shardedApp) commitFiles(t *testing.T, name, release string) string {
	t.Helper()
	h, err := a.repo.Commit(map[string]string{"app.yaml": configMap(shardingAppNS, name, map[string]string{"release": release})}, "Release "+release)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// commit pushes release of the app and asks its source to fetch it.
func (a *shardedApp) commit(t *testing.T, ctx context.Context, env *framework.Env, release string) {
	t.Helper()
	a.second = a.commitFiles(t, a.ks.Name, release)
	src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: shardingAppNS, Name: a.ks.Name}}
	if _, err := env.RequestReconcile(ctx, src); err != nil {
		t.Fatal(err)
	}
}

// fluxDeployment reads a Deployment of the installation.
func fluxDeployment(t *testing.T, ctx context.Context, env *framework.Env, name string) *appsv1.Deployment {
	t.Helper()
	d, err := env.Clientset.AppsV1().Deployments(framework.RuntimeNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func containerArgs(d *appsv1.Deployment) []string {
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return nil
	}
	return d.Spec.Template.Spec.Containers[0].Args
}

// portableFlags are a Deployment's container flags a process on this machine runs with too:
// all but machineFlags.
func portableFlags(d *appsv1.Deployment) []string {
	var out []string
	for _, a := range containerArgs(d) {
		name, _, _ := strings.Cut(a, "=")
		if !slices.Contains(machineFlags, name) {
			out = append(out, a)
		}
	}
	return out
}

// waitArtifactIn is waitArtifact in the cluster of env.
func waitArtifactIn(t *testing.T, ctx context.Context, env *framework.Env, src *sourcev1.GitRepository, revision string) {
	t.Helper()
	waitIn(t, ctx, env, src, time.Minute, fmt.Sprintf("GitRepository %s/%s to have an artifact of %s", src.Namespace, src.Name, revision),
		readyAnd(src, func() (bool, string) {
			if a := src.Status.Artifact; a == nil || a.Revision != revision {
				return false, "artifact not at the revision"
			}
			return true, ""
		}))
}
