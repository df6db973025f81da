package health

import (
	"strings"
	"sync"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
)

func check(apiVersion, kind, current, inProgress, failed string) kustomize.CustomHealthCheck {
	return kustomize.CustomHealthCheck{
		APIVersion: apiVersion,
		Kind:       kind,
		HealthCheckExpressions: kustomize.HealthCheckExpressions{
			Current: current, InProgress: inProgress, Failed: failed,
		},
	}
}

// certCheck is the documented Flux example for cert-manager Certificates (plus inProgress).
func certCheck() kustomize.CustomHealthCheck {
	return check("cert-manager.io/v1", "Certificate",
		"status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
		"status.conditions.exists(e, e.type == 'Issuing' && e.status == 'True')",
		"status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')",
	)
}

func certificate(generation, observed, conditions string) string {
	s := `apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls, namespace: apps, generation: ` + generation + `}
spec: {secretName: tls, dnsNames: [example.com], issuerRef: {name: letsencrypt, kind: ClusterIssuer}}
`
	if observed != "" || conditions != "" {
		s += "status:\n"
	}
	if observed != "" {
		s += "  observedGeneration: " + observed + "\n"
	}
	if conditions != "" {
		s += "  conditions:\n" + conditions
	}
	return s
}

// TestEvaluateCEL checks healthCheckExprs: the documented order inProgress, failed, current,
// the fallback to InProgress, the generation check, overrides of default rules and evaluation
// errors.
func TestEvaluateCEL(t *testing.T) {
	tests := []struct {
		name     string
		checks   []kustomize.CustomHealthCheck
		manifest string
		want     Status
		wantMsg  string
		wantErr  string
	}{
		{
			name:   "current",
			checks: []kustomize.CustomHealthCheck{certCheck()},
			manifest: certificate("1", "1", `  - {type: Ready, status: "True", reason: Ready, message: Certificate is up to date and has not expired}
`),
			want: Current, wantMsg: "up to date",
		},
		{
			name:   "failed (kstatus alone would say InProgress)",
			checks: []kustomize.CustomHealthCheck{certCheck()},
			manifest: certificate("1", "1", `  - {type: Ready, status: "False", reason: Failed, message: "The certificate request has failed to complete"}
`),
			want: Failed, wantMsg: "failed to complete",
		},
		{
			name:   "inProgress is evaluated first",
			checks: []kustomize.CustomHealthCheck{certCheck()},
			manifest: certificate("1", "1", `  - {type: Ready, status: "False", reason: DoesNotExist, message: Issuing certificate as Secret does not exist}
  - {type: Issuing, status: "True", reason: DoesNotExist}
`),
			want: InProgress, wantMsg: "Issuing certificate",
		},
		{
			name:   "no expression matches",
			checks: []kustomize.CustomHealthCheck{check("cert-manager.io/v1", "Certificate", "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')", "", "")},
			manifest: certificate("1", "1", `  - {type: Ready, status: Unknown}
`),
			want: InProgress, wantMsg: "no health check expression matched",
		},
		{
			name:   "message names the expression when there is no Ready message",
			checks: []kustomize.CustomHealthCheck{check("cert-manager.io/v1", "Certificate", "true", "", "")},
			manifest: certificate("1", "1", `  - {type: Synced, status: "True"}
`),
			want: Current, wantMsg: "current expression matched",
		},
		{
			name:   "observed generation lags",
			checks: []kustomize.CustomHealthCheck{certCheck()},
			manifest: certificate("3", "2", `  - {type: Ready, status: "True"}
`),
			want: InProgress, wantMsg: "generation is 3, but latest observed generation is 2",
		},
		{
			name:     "missing status field is an evaluation error",
			checks:   []kustomize.CustomHealthCheck{certCheck()},
			manifest: certificate("1", "", ""),
			want:     Unknown, wantMsg: "evaluating inProgress expression",
			wantErr: "Certificate/apps/tls: evaluating inProgress expression",
		},
		{
			name:   "runtime non-bool result",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "status.phase", "", "")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
status: {phase: Running}
`,
			want: Unknown, wantMsg: "not bool", wantErr: "Widget/apps/w",
		},
		{
			name:   "self, metadata and apiVersion variables",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "self.metadata.name == 'w' && metadata.labels['tier'] == 'web' && apiVersion == 'example.com/v1' && kind == 'Widget'", "", "")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps, labels: {tier: web}}
`,
			want: Current,
		},
		{
			name:   "integer fields compare across JSON number types",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "status.readyReplicas >= spec.replicas", "", "")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
spec: {replicas: 2}
status: {readyReplicas: 2.0}
`,
			want: Current,
		},
		{
			name:   "matches by group and kind, any version",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1beta1", "Widget", "false", "", "true")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
`,
			want: Failed,
		},
		{
			name:   "other kinds of the group keep the default",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "Gadget", "false", "", "true")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
`,
			want: Current, wantMsg: "Resource is current",
		},
		{
			name:   "empty kind matches the whole group",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "", "false", "", "true")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
`,
			want: Failed,
		},
		{
			name:   "first entry for a kind wins",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "true", "", ""), check("example.com/v1", "Widget", "false", "", "true")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
`,
			want: Current,
		},
		{
			name: "overrides the Flux rule",
			checks: []kustomize.CustomHealthCheck{check("kustomize.toolkit.fluxcd.io/v1", "Kustomization",
				"status.conditions.exists(e, e.type == 'Ready' && e.status == 'False' && e.reason == 'DependencyNotReady')", "", "")},
			manifest: `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system, generation: 1}
status:
  observedGeneration: 1
  conditions:
  - {type: Ready, status: "False", reason: DependencyNotReady, message: "dependency 'flux-system/infra' is not ready"}
`,
			want: Current, wantMsg: "is not ready",
		},
		{
			name:   "overrides kstatus for a built-in kind",
			checks: []kustomize.CustomHealthCheck{check("v1", "ConfigMap", "has(data.ready) && data.ready == 'yes'", "", "")},
			manifest: `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: apps}
data: {ready: "no"}
`,
			want: InProgress,
		},
		{
			name:   "cost limit stops runaway expressions",
			checks: []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "lists.range(1000).all(i, lists.range(1000).all(j, i + j >= 0))", "", "")},
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
`,
			want: Unknown, wantMsg: "cost limit", wantErr: "cost limit",
		},
	}
	comp, err := NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := comp.NewEvaluator(tt.checks)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ev.Evaluate(obj(t, tt.manifest))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if res.Status != tt.want || !strings.Contains(res.Message, tt.wantMsg) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Message, tt.want, tt.wantMsg)
			}
		})
	}
}

// TestNewEvaluatorErrors checks that invalid healthCheckExprs are rejected with a message naming
// the entry's apiVersion/kind and the expression.
func TestNewEvaluatorErrors(t *testing.T) {
	tests := []struct {
		name    string
		checks  []kustomize.CustomHealthCheck
		wantErr []string
	}{
		{"syntax error", []kustomize.CustomHealthCheck{check("cert-manager.io/v1", "Certificate", "status.conditions.filter(e, e.type == 'Ready'", "", "")},
			[]string{"cert-manager.io/v1 Certificate", "invalid current expression", "status.conditions.filter(e, e.type == 'Ready'", "Syntax error"}},
		{"undeclared variable", []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "true", "", "phase == 'Failed'")},
			[]string{"example.com/v1 Widget", "invalid failed expression", "undeclared reference to 'phase'"}},
		{"non-bool expression", []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "true", "'InProgress'", "")},
			[]string{"example.com/v1 Widget", "invalid inProgress expression", "must evaluate to bool, got string"}},
		{"unknown function", []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "isReady(status)", "", "")},
			[]string{"example.com/v1 Widget", "isReady"}},
		{"second entry is named", []kustomize.CustomHealthCheck{certCheck(), check("example.com/v1", "Widget", "status.ready ==", "", "")},
			[]string{"healthCheckExprs[1]", "example.com/v1 Widget"}},
		{"missing current", []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "", "true", "")},
			[]string{"healthCheckExprs[0] (example.com/v1 Widget): the current expression is required"}},
		{"missing apiVersion", []kustomize.CustomHealthCheck{check("", "Widget", "true", "", "")},
			[]string{"apiVersion is required", "Widget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := NewEvaluator(tt.checks)
			if err == nil {
				t.Fatalf("got evaluator %v, want error", ev)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// TestCompilerSharesPrograms checks that one Compiler compiles each distinct expression once
// and that shared programs evaluate correctly from many goroutines (run with -race).
func TestCompilerSharesPrograms(t *testing.T) {
	comp, err := NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	current := certificate("1", "1", `  - {type: Ready, status: "True"}
`)
	failed := certificate("1", "1", `  - {type: Ready, status: "False", message: boom}
`)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := comp.NewEvaluator([]kustomize.CustomHealthCheck{certCheck()})
			if err != nil {
				errs <- err.Error()
				return
			}
			for j := 0; j < 20; j++ {
				if r, _ := ev.Evaluate(obj(t, current)); r.Status != Current {
					errs <- "want Current, got " + string(r.Status)
				}
				if r, _ := ev.Evaluate(obj(t, failed)); r.Status != Failed {
					errs <- "want Failed, got " + string(r.Status)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(comp.progs); n != 3 {
		t.Errorf("compiler holds %d programs, want 3 (one per distinct expression)", n)
	}
}

// TestNilAndEmptyEvaluator checks that no custom checks means the default rules.
func TestNilAndEmptyEvaluator(t *testing.T) {
	ev, err := NewEvaluator(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Evaluator{nil, ev} {
		res, err := e.Evaluate(obj(t, `apiVersion: v1
kind: Secret
metadata: {name: s, namespace: apps}
`))
		if err != nil || res.Status != Current {
			t.Errorf("got %v, %v; want Current", res, err)
		}
	}
}
