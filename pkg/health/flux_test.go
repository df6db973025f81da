package health

import (
	"strings"
	"testing"
)

// TestEvaluateFlux checks the Flux rule: Ready at the current generation, Stalled and
// Reconciling deciding what Ready=False means.
func TestEvaluateFlux(t *testing.T) {
	ks := func(gen, observed, conditions string) string {
		s := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system, generation: ` + gen + `}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
`
		if observed == "" && conditions == "" {
			return s
		}
		s += "status:\n"
		if observed != "" {
			s += "  observedGeneration: " + observed + "\n"
		}
		if conditions != "" {
			s += "  conditions:\n" + conditions
		}
		return s
	}
	const readyTrue = `  - {type: Ready, status: "True", reason: ReconciliationSucceeded, message: "Applied revision: main@sha1:1a2b"}
`
	tests := []struct {
		name     string
		manifest string
		want     Status
		wantMsg  string
	}{
		{"ready", ks("4", "4", readyTrue), Current, "Applied revision"},
		{"observed generation lags", ks("5", "4", readyTrue), InProgress, "generation is 5, but latest observed generation is 4"},
		{"observed generation missing", ks("1", "", readyTrue), InProgress, "not observed"},
		{"no status", ks("1", "", ""), InProgress, ""},
		{"no Ready condition", ks("2", "2", `  - {type: Reconciling, status: "True", reason: Progressing}
`), InProgress, "Ready condition"},
		{"ready unknown", ks("2", "2", `  - {type: Ready, status: Unknown, reason: Progressing, message: reconciliation in progress}
  - {type: Reconciling, status: "True", reason: Progressing}
`), InProgress, "reconciliation in progress"},
		{"retrying", ks("2", "2", `  - {type: Ready, status: "False", reason: BuildFailed, message: "kustomize build failed: accumulating resources"}
  - {type: Reconciling, status: "True", reason: ProgressingWithRetry}
`), InProgress, "kustomize build failed"},
		{"stalled", ks("2", "2", `  - {type: Ready, status: "False", reason: InvalidCELExpression, message: "invalid readyExpr"}
  - {type: Stalled, status: "True", reason: InvalidCELExpression, message: "readyExpr 'dep.x ==' does not compile"}
`), Failed, "does not compile"},
		{"failed, not reconciling", ks("2", "2", `  - {type: Ready, status: "False", reason: HealthCheckFailed, message: "Deployment/apps/web failed: Progress deadline exceeded"}
`), Failed, "Progress deadline exceeded"},
		{"helmrelease install failed", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps, generation: 1}
spec: {interval: 5m, chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}}
status:
  observedGeneration: 1
  conditions:
  - {type: Ready, status: "False", reason: InstallFailed, message: "Helm install failed for release apps/podinfo: context deadline exceeded"}
  - {type: Stalled, status: "True", reason: RetriesExceeded, message: "Failed to install after 1 attempt(s)"}
`, Failed, "Failed to install after 1 attempt(s)"},
		{"helmrelease ready", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps, generation: 7}
status:
  observedGeneration: 7
  conditions:
  - {type: Ready, status: "True", reason: UpgradeSucceeded, message: "Helm upgrade succeeded"}
`, Current, "upgrade succeeded"},
		{"alert v1beta3 has no status", `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: slack, namespace: flux-system, generation: 1}
spec: {providerRef: {name: slack}, eventSources: [{kind: Kustomization, name: '*'}]}
`, Current, "static"},
		{"provider v1beta3 has no status", `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: slack, namespace: flux-system, generation: 2}
spec: {type: slack, channel: general}
`, Current, "static"},
		{"alert with conditions from an older version", `apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: slack, namespace: flux-system, generation: 2}
status:
  observedGeneration: 1
  conditions:
  - {type: Ready, status: "True"}
`, InProgress, "latest observed generation is 1"},
		{"oci helmrepository", `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system, generation: 1}
spec: {type: oci, url: oci://ghcr.io/stefanprodan/charts, interval: 5m}
`, Current, "static"},
		{"default helmrepository needs Ready", `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system, generation: 1}
spec: {url: https://stefanprodan.github.io/podinfo, interval: 5m}
`, InProgress, "not observed"},
		{"receiver without status waits", `apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: github, namespace: flux-system, generation: 1}
spec: {type: github, resources: [{kind: GitRepository, name: flux-system}], secretRef: {name: token}}
`, InProgress, "not observed"},
		{"gitrepository being deleted", `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, namespace: apps, generation: 1, deletionTimestamp: "2024-05-01T10:00:00Z"}
status:
  observedGeneration: 1
  conditions:
  - {type: Ready, status: "True"}
`, Terminating, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := (*Evaluator)(nil).Evaluate(obj(t, tt.manifest))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.want || !strings.Contains(res.Message, tt.wantMsg) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Message, tt.want, tt.wantMsg)
			}
		})
	}
}
