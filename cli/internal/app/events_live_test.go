package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/golden"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/e2e/framework"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// events lists the events the controllers recorded for the fleet.
func (lc *liveCase) events(t *testing.T) {
	r := lc.run(t, 0, "events", "--for", "Kustomization/apps")
	wants(t, "stdout", r.stdout, "LAST SEEN", "\tKustomization/apps", "\tGitRepository/fleet", "ConfigMap/apps/settings created")
	if !strings.HasPrefix(r.stdout, "LAST SEEN\tTYPE  \tREASON") && !strings.HasPrefix(r.stdout, "LAST SEEN") {
		t.Errorf("header: %q", r.stdout)
	}
	for _, l := range lines(r.stdout)[1:] {
		continuation := strings.HasPrefix(l, " ") // the next line of a multi-line message
		if !continuation && !strings.Contains(l, "\tKustomization/apps") && !strings.Contains(l, "\tGitRepository/fleet") {
			t.Errorf("--for Kustomization/apps printed another object: %q", l)
		}
	}
	r = lc.run(t, 0, "events")
	wants(t, "stdout", r.stdout, "\tKustomization/root", "\tKustomization/oci-app", "\tOCIRepository/oci-app", "\tGitRepository/fleet")
	if strings.Contains(r.stdout, "broken") {
		t.Errorf("events of another namespace:\n%s", r.stdout)
	}
	r = lc.run(t, 0, "events", "-n", "staging", "--types", "warning")
	wants(t, "stdout", r.stdout, "\tWarning\t", "\tKustomization/broken", "does-not-exist")
	if strings.Contains(r.stdout, "\tNormal") {
		t.Errorf("--types warning printed Normal events:\n%s", r.stdout)
	}
	r = lc.run(t, 0, "events", "-A", "--for", "Kustomization")
	wants(t, "stdout", r.stdout, "NAMESPACE", "staging    \t", "flux-system\t", "Kustomization/broken", "Kustomization/apps")
	if strings.Contains(r.stdout, "GitRepository/") {
		t.Errorf("--for Kustomization printed other kinds:\n%s", r.stdout)
	}
	r = lc.run(t, 0, "events", "-n", "default")
	wants(t, "stderr", r.stderr, "✗ No events found in default namespace.")
	r = lc.run(t, 1, "events", "--for", "Gadget/x")
	wants(t, "stderr", r.stderr, `✗ --for Gadget/x: unknown kind "Gadget"`)
}

// eventsWatch streams the events of Kustomization/apps while a new commit changes what it
// applies: the new event is printed as it is recorded.
func (lc *liveCase) eventsWatch(t *testing.T, ctx context.Context, repo *framework.GitRepo) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, errOut, wait := startFlux(wctx, "events", "--watch", "--for", "Kustomization/apps", lc.kc)
	waitFor(t, "the recorded events", func() bool { return strings.Contains(out.String(), "ConfigMap/apps/settings created") })
	files := liveFleet()
	files["apps/settings.yaml"] += "  color: blue\n"
	if _, err := repo.Commit(files, "blue"); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.env.RequestReconcile(ctx, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "fleet", Namespace: "flux-system"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new event", func() bool { return strings.Contains(out.String(), "ConfigMap/apps/settings configured") })
	cancel()
	if err := wait(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\t\n") {
		t.Errorf("header: %q", out.String())
	}
}

// eventsGolden records events with known times on suspended objects (no controller adds
// any) and compares the tables with goldens.
func (lc *liveCase) eventsGolden(t *testing.T) {
	ctx := context.Background()
	const ns = "golden-events"
	if _, err := lc.env.Apply(ctx, fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: demo, namespace: %[1]s}
spec: {url: https://example.com/demo.git, interval: 10m, suspend: true}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: demo, namespace: %[1]s}
spec: {interval: 10m, prune: true, suspend: true, sourceRef: {kind: GitRepository, name: demo}}
`, ns)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	record := func(name, apiVersion, kind, object, typ, reason, msg string, count int32, first, last time.Duration) {
		t.Helper()
		e := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: ns},
			InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind, Name: object, Namespace: ns},
			Type:           typ, Reason: reason, Message: msg, Count: count,
			FirstTimestamp: metav1.NewTime(now.Add(-first)), LastTimestamp: metav1.NewTime(now.Add(-last)),
			Source: corev1.EventSource{Component: "test"},
		}
		if err := lc.env.Client.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	const ks, src = "kustomize.toolkit.fluxcd.io/v1", "source.toolkit.fluxcd.io/v1"
	record("e1", src, "GitRepository", "demo", "Normal", "NewArtifact", "stored artifact for commit 'Add apps'", 1, 10*time.Minute, 10*time.Minute)
	record("e2", ks, "Kustomization", "demo", "Normal", "Progressing", "Namespace/apps created\nDeployment/apps/podinfo created", 1, 9*time.Minute, 9*time.Minute)
	record("e3", ks, "Kustomization", "demo", "Warning", "ReconciliationFailed", "kustomize build failed: path './apps' not found", 3, 65*time.Minute, 2*time.Minute)
	record("e4", ks, "Kustomization", "other", "Normal", "Progressing", "ConfigMap/apps/x created", 1, 5*time.Minute, 5*time.Minute)
	record("e5", "v1", "Pod", "podinfo-abc", "Warning", "BackOff", "Back-off restarting failed container", 1, time.Minute, time.Minute)

	// Ages are computed against the instant the events were recorded at, not the wall clock.
	at := func(args ...string) result {
		t.Helper()
		r := runFluxAt(t, now, "", append(args, lc.kc)...)
		if r.code != 0 {
			t.Fatalf("flux %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r
	}
	r := at("events", "-n", ns)
	golden.Assert(t, "events-namespace", r.stdout)
	r = at("events", "-n", ns, "--for", "Kustomization/demo")
	golden.Assert(t, "events-for-kustomization", r.stdout)
	r = at("events", "-n", ns, "--for", "Kustomization/demo", "--types", "Warning")
	golden.Assert(t, "events-for-kustomization-warnings", r.stdout)
}
