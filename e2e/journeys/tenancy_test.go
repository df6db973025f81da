package journeys_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/e2e/framework"
	"gotk.dev/internal/testing/helmrepo"
)

const (
	platformCluster = "clusters/production"
	platformSync    = platformCluster + "/flux-system/gotk-sync.yaml"
	helmRepoMark    = "__HELM_REPOSITORY_URL__"
	alertsURLMark   = "__ALERTS_URL__"
	alertsKeyMark   = "__ALERTS_HMAC_KEY__"
)

// tenants are the teams the platform onboards; team-b is the hostile one.
var tenants = []string{"team-a", "team-b"}

// productionPlatform bootstraps the production cluster from the platform repository once,
// for every journey that needs it (TestMultiTenancy, TestCentralAlerting), in the first
// one's context: the objects outlive it.
var productionPlatform struct {
	once   sync.Once
	p      *platform
	charts *helmrepo.Server
}

// bootstrappedPlatform returns the production cluster bootstrapped from the platform
// repository, bootstrapping it on first call.
func bootstrappedPlatform(t *testing.T, ctx context.Context, env *framework.Env) *platform {
	t.Helper()
	productionPlatform.once.Do(func() {
		charts, err := helmrepo.Start(helmrepo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		productionPlatform.charts = charts
		data, err := helmrepo.PackageChart(helmrepo.PodinfoDir(), "", podinfoChartVersion)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := charts.Add(data); err != nil {
			t.Fatal(err)
		}
		p := bootstrapPlatform(t, ctx, env, charts)
		p.sync(t, ctx)
		productionPlatform.p = p
	})
	if productionPlatform.p == nil {
		t.Fatal("bootstrapping the production cluster failed (see the journey that tried first)")
	}
	return productionPlatform.p
}

// platform is the production cluster bootstrapped from the platform repository, with its
// tenants onboarded: what TestMultiTenancy and TestCentralAlerting start from.
type platform struct {
	env      *framework.Env
	revision string            // of the platform repository
	tenants  map[string]string // team -> revision of its repository
	// order records the Ready order of flux-system's Kustomizations from before the sync.
	order *readyOrder
}

// bootstrapPlatform pushes the tenants' repositories and the platform repository (tenants
// onboarded with the flux CLI's --export output, extra files added under their paths) to
// the production cluster's Git server and bootstraps the cluster from it, the way `flux
// bootstrap` leaves a cluster: the install's service accounts and cluster role binding,
// then gotk-sync.yaml. It returns once the sync objects are applied; the caller waits for
// what it needs.
func bootstrapPlatform(t *testing.T, ctx context.Context, env *framework.Env, charts *helmrepo.Server) *platform {
	t.Helper()
	p := &platform{env: env, tenants: map[string]string{}, order: watchReadyOrderIn(t, context.Background(), env, framework.RuntimeNamespace)}
	alerts := centralAlerts()
	platformFiles, err := framework.ReadTree("testdata/platform")
	if err != nil {
		t.Fatal(err)
	}
	for _, team := range tenants {
		files, err := framework.ReadTree(filepath.Join("testdata", "tenants", team))
		if err != nil {
			t.Fatal(err)
		}
		repo, err := env.CreateGitRepo(team)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := repo.Commit(replaceMarks(files, map[string]string{helmRepoMark: charts.URL}), "Add "+team)
		if err != nil {
			t.Fatal(err)
		}
		p.tenants[team] = repo.Revision(hash)
		// Onboarding, as the platform admin does it (fluxcd/flux2-multi-tenancy's README).
		dir := "tenants/" + team + "/"
		platformFiles[dir+"rbac.yaml"] = fluxCLI(t, ctx, env, "create", "tenant", team, "--with-namespace="+team, "--export")
		platformFiles[dir+"sync.yaml"] = fluxCLI(t, ctx, env, "create", "source", "git", team, "--namespace="+team,
			"--url="+repo.HTTPURL, "--branch=main", "--export") +
			fluxCLI(t, ctx, env, "create", "kustomization", team, "--namespace="+team, "--service-account="+team,
				"--source=GitRepository/"+team, "--path=./", "--prune=true", "--export")
	}
	repo, err := env.CreateGitRepo("platform")
	if err != nil {
		t.Fatal(err)
	}
	marks := alerts.KeyPlaceholders(alertsKeyMark)
	marks[helmRepoMark], marks[fleetGitURLMark], marks[alertsURLMark] = charts.URL, repo.HTTPURL, alerts.URL
	platformFiles = replaceMarks(platformFiles, marks)
	hash, err := repo.Commit(platformFiles, "Add the production cluster and onboard "+strings.Join(tenants, ", "))
	if err != nil {
		t.Fatal(err)
	}
	p.revision = repo.Revision(hash)

	// What `flux install` puts in place before the sync: the controllers' service accounts
	// (manifests/bases/<name>/account.yaml, namespaced by the install) and the cluster-admin
	// binding the platform's own Kustomizations and HelmReleases impersonate.
	for _, sa := range []string{"kustomize-controller", "helm-controller"} {
		if _, err := env.Apply(ctx, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: "+sa+"\n  namespace: "+framework.RuntimeNamespace+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	reconciler, err := os.ReadFile(filepath.Join(env.Root, "manifests", "rbac", "reconciler.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, string(reconciler)); err != nil {
		t.Fatalf("manifests/rbac/reconciler.yaml: %v", err)
	}
	return p
}

// sync applies gotk-sync.yaml from the platform repository, as bootstrap's last step.
func (p *platform) sync(t *testing.T, ctx context.Context) {
	t.Helper()
	files, err := framework.ReadTree("testdata/platform")
	if err != nil {
		t.Fatal(err)
	}
	repo := p.env.Git.RepoURL("platform")
	manifest := strings.ReplaceAll(files[platformSync], fleetGitURLMark, repo)
	if manifest == files[platformSync] {
		t.Fatalf("%s has no %s placeholder", platformSync, fleetGitURLMark)
	}
	if _, err := p.env.Apply(ctx, manifest); err != nil {
		t.Fatal(err)
	}
}

// replaceMarks returns files with every placeholder replaced.
func replaceMarks(files map[string]string, marks map[string]string) map[string]string {
	out := make(map[string]string, len(files))
	for path, body := range files {
		for mark, value := range marks {
			body = strings.ReplaceAll(body, mark, value)
		}
		out[path] = body
	}
	return out
}

// readyTime is when obj's Ready condition last changed, for ordering checks.
func readyTime(obj interface{ GetConditions() []metav1.Condition }) metav1.Time {
	if c := condition(obj, "Ready"); c != nil {
		return c.LastTransitionTime
	}
	return metav1.Time{}
}

// waitTime bounds each wait of the tenancy journeys.
const waitTime = 2 * time.Minute
