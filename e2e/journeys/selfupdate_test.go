package journeys_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	// selfUpdateNS is the namespace flux bootstrap installs into (-n): the shared cluster's
	// flux-system belongs to the fleet journey. Bootstrap names the sync objects and the
	// directory after it.
	selfUpdateNS    = "selfupdate"
	selfUpdateAppNS = "selfupdate-app"
	selfUpdatePath  = "clusters/selfupdate"
	selfUpdateDir   = selfUpdatePath + "/" + selfUpdateNS
	// selfUpdateFrom and selfUpdateTo are the two flux CLI releases: the cluster is
	// bootstrapped with the first, then upgraded by re-running bootstrap with the second.
	selfUpdateFrom = "2.7.0"
	selfUpdateTo   = "2.7.1"
	// selfUpdateAppInterval is the app Kustomization's interval: short, so the journey sees
	// several periodic reconciles on each side of the upgrade in under a minute.
	selfUpdateAppInterval = 10 * time.Second
	// selfUpdateJitterPercent is the controllers' default --interval-jitter-percentage: a
	// periodic reconcile may come this much later than its interval.
	selfUpdateJitterPercent = 5
)

// selfUpdateUserKustomization is the flux-system directory's kustomization.yaml a user writes
// before bootstrapping, to patch the Flux components (upstream's "customize Flux" guide): it
// must survive every upgrade, and the cluster must keep applying its patch.
const selfUpdateUserKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - gotk-components.yaml
  - gotk-sync.yaml
patches:
  - target:
      kind: Deployment
    patch: |
      - op: add
        path: /metadata/labels/team
        value: platform
`

// TestSelfUpdate is the self-update journey: a cluster is bootstrapped with flux 2.7.0 from
// a repository that already holds the user's patch of the components and an app (its own
// GitRepository and a Kustomization with a 10s interval). Re-running `flux bootstrap git`
// with flux 2.7.1 against the same repository commits new component manifests (only the
// version and image tags change; the user's files stay byte for byte), the cluster applies
// them from Git (the Deployments roll out the new images, still patched), and the controllers
// restart on the new version (the framework's processes are restarted, as the Pods would be).
// Nothing is lost: the same Flux objects, UIDs and inventories, the app's artifact still
// served unchanged (no new fetch), and no gap between the app's successful reconciles longer
// than its interval (plus the controllers' jitter) across the whole upgrade.
//
// It restarts controllers every journey shares, so it does not run in parallel.
func TestSelfUpdate(t *testing.T) {
	env, ctx := journey(t, 3*time.Minute)
	oldFlux, err := suite.bins.FluxVersion(ctx, selfUpdateFrom)
	if err != nil {
		t.Fatal(err)
	}
	newFlux, err := suite.bins.FluxVersion(ctx, selfUpdateTo)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now() // the journey's own time, after the CLI builds

	app, err := env.CreateGitRepo("selfupdate-app")
	if err != nil {
		t.Fatal(err)
	}
	appHash, err := app.Commit(map[string]string{
		"namespace.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + selfUpdateAppNS + "\n",
		"configmaps.yaml": configMap(selfUpdateAppNS, "frontend", map[string]string{"tier": "web"}) + "---\n" + configMap(selfUpdateAppNS, "backend", map[string]string{"tier": "api"}),
	}, "Add the app")
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := env.CreateGitRepo("selfupdate-fleet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.Commit(map[string]string{
		selfUpdatePath + "/app.yaml":          selfUpdateAppSync(app.HTTPURL),
		selfUpdateDir + "/kustomization.yaml": selfUpdateUserKustomization,
	}, "Add the app and customize Flux"); err != nil {
		t.Fatal(err)
	}

	// Bootstrap with the older flux.
	out := selfUpdateBootstrap(t, ctx, env, oldFlux, fleet)
	first := selfUpdateHead(t, env, fleet)
	if !strings.Contains(out, "committed component manifests") {
		t.Errorf("the first bootstrap did not commit the component manifests:\n%s", out)
	}
	sync := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: selfUpdateNS, Namespace: selfUpdateNS}}
	appSrc := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: selfUpdateNS}}
	appKs := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: selfUpdateNS}}
	waitApplied(t, ctx, sync, fleet.Revision(first), time.Minute)
	waitArtifact(t, ctx, appSrc, app.Revision(appHash), time.Minute)
	waitApplied(t, ctx, appKs, app.Revision(appHash), time.Minute)
	deployments := selfUpdateDeployments(t, ctx, env, "v"+selfUpdateFrom)
	before := snapshotSelfUpdate(t, ctx, env)
	wantAppInventory := []string{
		inventoryID("", selfUpdateAppNS, "", "Namespace"),
		inventoryID(selfUpdateAppNS, "backend", "", "ConfigMap"),
		inventoryID(selfUpdateAppNS, "frontend", "", "ConfigMap"),
	}
	if got := before.inventories["Kustomization/app"]; !slices.Equal(got, wantAppInventory) {
		t.Fatalf("app inventory before the upgrade: %s", diffSets(wantAppInventory, got))
	}

	// From here on, every successful reconcile of the app is recorded; the first periodic
	// one, by the old controllers, is the baseline.
	gaps := watchReconciles(t, ctx, env, selfUpdateNS, "Kustomization", "app")
	gaps.waitFor(t, ctx, 1, 2*selfUpdateAppInterval)

	// Re-run bootstrap with the newer flux: the upgrade goes through Git.
	out = selfUpdateBootstrap(t, ctx, env, newFlux, fleet)
	second := selfUpdateHead(t, env, fleet)
	if second == first {
		t.Fatalf("the second bootstrap made no commit:\n%s", out)
	}
	t.Run("the upgrade commit changes only the component versions", func(t *testing.T) {
		checkUpgradeCommit(t, env, fleet, first, second)
	})
	waitApplied(t, ctx, sync, fleet.Revision(second), time.Minute)
	t.Run("the cluster applied the new components from Git", func(t *testing.T) {
		upgraded := selfUpdateDeployments(t, ctx, env, "v"+selfUpdateTo)
		if !slices.Equal(upgraded, deployments) {
			t.Errorf("Deployments after the upgrade %v, before %v", upgraded, deployments)
		}
	})

	// The Pods restart on the new version: restart each controller process whose
	// Deployment was upgraded, one after another as a rolling update does.
	restarted := restartUpgradedControllers(t, ctx, env, deployments)
	afterRestarts, restartsDone := gaps.count(), gaps.observed()
	t.Logf("restarted %v", restarted)

	// A reconcile by the restarted source-controller keeps the artifact.
	token, err := env.RequestReconcile(ctx, appSrc)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, appSrc, time.Minute, "GitRepository app to handle "+token, readyAnd(appSrc, func() (bool, string) {
		return appSrc.Status.LastHandledReconcileAt == token, "lastHandledReconcileAt " + appSrc.Status.LastHandledReconcileAt
	}))
	waitApplied(t, ctx, sync, fleet.Revision(second), time.Minute)
	waitApplied(t, ctx, appKs, app.Revision(appHash), time.Minute)
	// Observe until a reconcile after the last restart, so a schedule the restarts lost shows
	// as a gap.
	gaps.waitFor(t, ctx, afterRestarts+1, 2*selfUpdateAppInterval)
	after := snapshotSelfUpdate(t, ctx, env)

	t.Run("nothing lost", func(t *testing.T) {
		checkNothingLost(t, ctx, before, after, fleet.Revision(first), fleet.Revision(second))
	})
	t.Run("no reconcile gap longer than the interval", func(t *testing.T) {
		times, largest, at := gaps.stop()
		bound := selfUpdateAppInterval + selfUpdateAppInterval*selfUpdateJitterPercent/100 + time.Second
		t.Logf("app: %d successful reconciles observed over %s (at %s); largest gap %s (ending %s after the watch began), bound %s; restarts done at %s",
			len(times), gaps.observed().Round(time.Millisecond), roundAll(times), largest.Round(time.Millisecond), at.Round(time.Millisecond), bound,
			restartsDone.Round(time.Millisecond))
		if len(times) < 3 {
			t.Errorf("only %d successful reconciles of the app over %s at a %s interval", len(times), gaps.observed(), selfUpdateAppInterval)
		}
		if largest > bound {
			t.Errorf("the app went %s without a successful reconcile (interval %s, bound %s)",
				largest.Round(time.Millisecond), selfUpdateAppInterval, bound)
		}
	})
	t.Logf("self-update journey: %s of its own time (after building the two flux CLIs)", time.Since(begin).Round(time.Millisecond))
}

// selfUpdateAppSync is the user's file defining the app: a GitRepository and a Kustomization
// with a short interval.
func selfUpdateAppSync(url string) string {
	return fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: app
  namespace: %[1]s
spec:
  interval: 10m
  url: %[2]s
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: %[1]s
spec:
  interval: %[3]s
  retryInterval: 5s
  path: ./
  prune: true
  sourceRef:
    kind: GitRepository
    name: app
`, selfUpdateNS, url, selfUpdateAppInterval)
}

// selfUpdateBootstrap runs `flux bootstrap git` with the given flux binary against repo over
// anonymous HTTP (the journeys' Git server accepts any password), and returns its output.
func selfUpdateBootstrap(t *testing.T, ctx context.Context, env *framework.Env, flux string, repo *framework.GitRepo) string {
	t.Helper()
	args := []string{"bootstrap", "git", "--kubeconfig=" + env.Cluster.Kubeconfig, "--url=" + repo.HTTPURL,
		"--allow-insecure-http", "--password=unused", "--path=" + selfUpdatePath, "-n", selfUpdateNS, "--timeout=2m"}
	start := time.Now()
	out, err := exec.CommandContext(ctx, flux, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", flux, strings.Join(args, " "), err, out)
	}
	t.Logf("%s bootstrap took %s", flux, time.Since(start).Round(time.Millisecond))
	return string(out)
}

// selfUpdateHead is the commit at the tip of repo's default branch.
func selfUpdateHead(t *testing.T, env *framework.Env, repo *framework.GitRepo) string {
	t.Helper()
	h, err := env.Git.Resolve(repo.Name, repo.Branch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// checkUpgradeCommit checks that going from commit from to commit to changed
// gotk-components.yaml only, and only its version: written back with the old version, the
// new file is the old one byte for byte. The user's kustomization.yaml and app stay as they
// were.
func checkUpgradeCommit(t *testing.T, env *framework.Env, repo *framework.GitRepo, from, to string) {
	t.Helper()
	old, upgraded := treeAt(t, env, repo, from), treeAt(t, env, repo, to)
	components := selfUpdateDir + "/gotk-components.yaml"
	for path, content := range old {
		if path != components && upgraded[path] != content {
			t.Errorf("%s changed in the upgrade commit", path)
		}
	}
	for path := range upgraded {
		if _, ok := old[path]; !ok {
			t.Errorf("the upgrade commit added %s", path)
		}
	}
	if upgraded[selfUpdateDir+"/kustomization.yaml"] != selfUpdateUserKustomization {
		t.Errorf("the user's kustomization.yaml is not kept:\n%s", upgraded[selfUpdateDir+"/kustomization.yaml"])
	}
	oldC, newC := old[components], upgraded[components]
	wantTag := fmt.Sprintf("image: ghcr.io/gotk-dev/source-controller:v%s\n", selfUpdateTo)
	if !strings.Contains(newC, "# Flux Version: v"+selfUpdateTo+"\n") || !strings.Contains(newC, wantTag) {
		t.Errorf("gotk-components.yaml of the upgrade lacks the version header or %q", wantTag)
	}
	if newC == oldC {
		t.Fatal("gotk-components.yaml did not change")
	}
	if back := strings.ReplaceAll(newC, selfUpdateTo, selfUpdateFrom); back != oldC {
		t.Errorf("gotk-components.yaml changed more than the version %s -> %s", selfUpdateFrom, selfUpdateTo)
	}
}

// treeAt reads every file of commit hash in repo.
func treeAt(t *testing.T, env *framework.Env, repo *framework.GitRepo, hash string) map[string]string {
	t.Helper()
	r, err := gogit.PlainOpen(env.Git.Repos.Path(repo.Name))
	if err != nil {
		t.Fatal(err)
	}
	commit, err := r.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := commit.Tree()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// selfUpdateDeployments waits until every Flux Deployment of the installation runs images
// tagged tag, carries the user's patch and has rolled out, and returns their names.
func selfUpdateDeployments(t *testing.T, ctx context.Context, env *framework.Env, tag string) []string {
	t.Helper()
	var names []string
	err := framework.Poll(ctx, time.Minute, "the Flux Deployments to run "+tag, func(ctx context.Context) (bool, error, error) {
		var list appsv1.DeploymentList
		if err := env.Client.List(ctx, &list, client.InNamespace(selfUpdateNS)); err != nil {
			return false, nil, err
		}
		names = names[:0]
		for _, d := range list.Items {
			names = append(names, d.Name)
			for _, c := range d.Spec.Template.Spec.Containers {
				if !strings.HasSuffix(c.Image, ":"+tag) {
					return false, fmt.Errorf("Deployment %s runs %s", d.Name, c.Image), nil
				}
			}
			if d.Labels["team"] != "platform" {
				return false, fmt.Errorf("Deployment %s lacks the user's patch (labels %v)", d.Name, d.Labels), nil
			}
		}
		if len(names) == 0 {
			return false, fmt.Errorf("no Deployment in %s", selfUpdateNS), nil
		}
		return true, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := env.WaitDeploymentAvailable(ctx, selfUpdateNS, name, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(names)
	return names
}

// restartUpgradedControllers restarts, one at a time, the controller process of each
// upgraded Deployment, and returns their names.
func restartUpgradedControllers(t *testing.T, ctx context.Context, env *framework.Env, deployments []string) []string {
	t.Helper()
	var restarted []string
	for _, name := range deployments {
		p, ok := env.Controllers[name]
		if !ok {
			continue // a component this environment does not run as a process
		}
		starts, begin := p.Starts(), time.Now()
		if err := p.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s restarted and ready in %s", name, time.Since(begin).Round(time.Millisecond))
		if p.Starts() != starts+1 {
			t.Fatalf("%s started %d times, want %d", name, p.Starts(), starts+1)
		}
		restarted = append(restarted, name)
	}
	if !slices.Contains(restarted, "kustomize-controller") || !slices.Contains(restarted, "source-controller") {
		t.Fatalf("restarted %v: the upgrade must restart source- and kustomize-controller", restarted)
	}
	return restarted
}

// selfUpdateState is what must survive the upgrade: the Flux objects of the installation
// namespace with their UIDs, inventories, artifacts and readiness, and the app's objects.
type selfUpdateState struct {
	uids        map[string]types.UID // "<Kind>/<name>" -> UID, Flux objects and app objects
	ready       map[string]bool
	inventories map[string][]string // "Kustomization/<name>" -> inventory ids
	applied     map[string]string   // "Kustomization/<name>" -> lastAppliedRevision
	artifacts   map[string]string   // "GitRepository/<name>" -> revision, digest, lastUpdateTime
	urls        map[string]string   // "GitRepository/<name>" -> artifact URL
	digests     map[string]string
}

func snapshotSelfUpdate(t *testing.T, ctx context.Context, env *framework.Env) selfUpdateState {
	t.Helper()
	s := selfUpdateState{uids: map[string]types.UID{}, ready: map[string]bool{}, inventories: map[string][]string{},
		applied: map[string]string{}, artifacts: map[string]string{}, urls: map[string]string{}, digests: map[string]string{}}
	var repos sourcev1.GitRepositoryList
	if err := env.Client.List(ctx, &repos, client.InNamespace(selfUpdateNS)); err != nil {
		t.Fatal(err)
	}
	for i := range repos.Items {
		r := &repos.Items[i]
		key := "GitRepository/" + r.Name
		s.uids[key] = r.UID
		s.ready[key], _ = framework.Readiness(r)
		if a := r.Status.Artifact; a != nil {
			s.artifacts[key] = fmt.Sprintf("%s %s %s", a.Revision, a.Digest, a.LastUpdateTime.UTC().Format(time.RFC3339))
			s.urls[key], s.digests[key] = a.URL, a.Digest
		}
	}
	var kss kustomizev1.KustomizationList
	if err := env.Client.List(ctx, &kss, client.InNamespace(selfUpdateNS)); err != nil {
		t.Fatal(err)
	}
	for i := range kss.Items {
		k := &kss.Items[i]
		key := "Kustomization/" + k.Name
		s.uids[key] = k.UID
		s.ready[key], _ = framework.Readiness(k)
		s.inventories[key] = inventoryIDs(k)
		s.applied[key] = k.Status.LastAppliedRevision
	}
	var cms corev1.ConfigMapList
	if err := env.Client.List(ctx, &cms, client.InNamespace(selfUpdateAppNS), client.MatchingLabels{ownerNameLabel: "app"}); err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms.Items {
		s.uids["ConfigMap/"+cm.Name] = cm.UID
	}
	return s
}

// checkNothingLost compares the state before the upgrade with the state after the restarts:
// the same objects (same UIDs), all Ready, the same inventories, the app's artifact untouched
// and still served, and the sync Kustomization moved from the first to the second revision.
func checkNothingLost(t *testing.T, ctx context.Context, before, after selfUpdateState, first, second string) {
	t.Helper()
	if len(before.uids) < 6 { // 2 GitRepositories, 2 Kustomizations, 2 ConfigMaps
		t.Fatalf("only %d objects before the upgrade: %v", len(before.uids), before.uids)
	}
	for key, uid := range before.uids {
		if got, ok := after.uids[key]; !ok {
			t.Errorf("%s is gone after the upgrade", key)
		} else if got != uid {
			t.Errorf("%s was recreated (UID %s, was %s)", key, got, uid)
		}
	}
	for key := range after.uids {
		if _, ok := before.uids[key]; !ok {
			t.Errorf("%s appeared in the upgrade", key)
		}
	}
	for key, ok := range after.ready {
		if !ok {
			t.Errorf("%s is not Ready after the upgrade", key)
		}
	}
	for key, inv := range before.inventories {
		if got := after.inventories[key]; !slices.Equal(got, inv) {
			t.Errorf("%s inventory changed: %s", key, diffSets(inv, got))
		}
	}
	sync := "Kustomization/" + selfUpdateNS
	if before.applied[sync] != first || after.applied[sync] != second {
		t.Errorf("%s applied %s then %s, want %s then %s", sync, before.applied[sync], after.applied[sync], first, second)
	}
	if before.applied["Kustomization/app"] != after.applied["Kustomization/app"] {
		t.Errorf("the app's applied revision moved from %s to %s", before.applied["Kustomization/app"], after.applied["Kustomization/app"])
	}
	const appSrc = "GitRepository/app"
	if before.artifacts[appSrc] == "" || after.artifacts[appSrc] != before.artifacts[appSrc] {
		t.Errorf("the app's artifact (revision, digest, lastUpdateTime) was %q, is %q: fetched again", before.artifacts[appSrc], after.artifacts[appSrc])
	}
	for key, url := range after.urls {
		if got, err := downloadDigest(ctx, url); err != nil {
			t.Errorf("the artifact of %s is not served after the upgrade: %v", key, err)
		} else if got != after.digests[key] {
			t.Errorf("the artifact of %s at %s has digest %s, its status says %s", key, url, got, after.digests[key])
		}
	}
	if len(after.urls) != 2 {
		t.Errorf("%d GitRepositories with an artifact after the upgrade, want 2: %v", len(after.urls), after.urls)
	}
}

// downloadDigest downloads url and returns "sha256:<hex>" of the body.
func downloadDigest(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// roundAll formats durations to the millisecond.
func roundAll(ds []time.Duration) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond).String()
	}
	return strings.Join(out, " ")
}
