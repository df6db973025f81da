package dependency

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// obj decodes a YAML manifest the way an API response is decoded (integers as int64).
func obj(t testing.TB, manifest string) *unstructured.Unstructured {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatalf("YAML: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	return u
}

// kustomization returns a Kustomization manifest in namespace flux-system.
func kustomization(name, labels, generation, observed, lastApplied, conditions string) string {
	s := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ` + name + `
  namespace: flux-system
  generation: ` + generation + `
  labels: {` + labels + `}
spec: {interval: 10m, path: ./` + name + `, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
status:
`
	if observed != "" {
		s += "  observedGeneration: " + observed + "\n"
	}
	if lastApplied != "" {
		s += "  lastAppliedRevision: " + lastApplied + "\n"
	}
	if conditions != "" {
		s += "  conditions:\n" + conditions
	}
	return s
}

const (
	readyTrue  = "  - {type: Ready, status: \"True\", reason: ReconciliationSucceeded}\n"
	readyFalse = "  - {type: Ready, status: \"False\", reason: HealthCheckFailed}\n"
	rev1       = "main@sha1:1111111111111111111111111111111111111111"
	rev2       = "main@sha1:2222222222222222222222222222222222222222"
)

func ref(spec string) meta.DependencyReference { return meta.MakeDependsOn([]string{spec})[0] }

// TestCheck covers the built-in readiness, readyExpr replacing or adding to it, revisions and the
// error messages the reconciler shows.
func TestCheck(t *testing.T) {
	apps := kustomization("apps", "app/version: '2'", "1", "1", "", readyTrue)
	infra := kustomization("infra", "app/version: '2'", "4", "4", rev1, readyTrue)
	tests := []struct {
		name     string
		additive bool
		deps     []Dep
		wantErr  string // "" means ready
		wantType string // "notready", "invalid", "cycle"
	}{
		{name: "no dependencies"},
		{
			name: "ready",
			deps: []Dep{{Ref: ref("infra"), Obj: obj(t, infra)}},
		},
		{
			name: "cross-namespace reference ready",
			deps: []Dep{{Ref: ref("flux-system/infra"), Obj: obj(t, infra)}},
		},
		{
			name:    "not found",
			deps:    []Dep{{Ref: ref("infra"), Obj: obj(t, infra)}, {Ref: ref("other/db")}},
			wantErr: "dependency 'other/db' not found", wantType: "notready",
		},
		{
			name:    "Ready=False",
			deps:    []Dep{{Ref: ref("infra"), Obj: obj(t, kustomization("infra", "", "4", "4", rev1, readyFalse))}},
			wantErr: "dependency 'flux-system/infra' is not ready", wantType: "notready",
		},
		{
			name:    "Ready=True for an older generation",
			deps:    []Dep{{Ref: ref("infra"), Obj: obj(t, kustomization("infra", "", "5", "4", rev1, readyTrue))}},
			wantErr: "dependency 'flux-system/infra' is not ready", wantType: "notready",
		},
		{
			name:    "no conditions yet",
			deps:    []Dep{{Ref: ref("infra"), Obj: obj(t, kustomization("infra", "", "1", "", "", ""))}},
			wantErr: "dependency 'flux-system/infra' is not ready", wantType: "notready",
		},
		{
			name:    "first failing dependency in spec order is reported",
			deps:    []Dep{{Ref: ref("infra"), Obj: obj(t, infra)}, {Ref: ref("a")}, {Ref: ref("b")}},
			wantErr: "dependency 'flux-system/a' not found", wantType: "notready",
		},
		{
			name: "same source, revision applied",
			deps: []Dep{{Ref: ref("infra"), Obj: obj(t, infra), Revision: rev1}},
		},
		{
			name:    "same source, revision not applied yet",
			deps:    []Dep{{Ref: ref("infra"), Obj: obj(t, infra), Revision: rev2}},
			wantErr: "dependency 'flux-system/infra' revision is not up to date: applied '" + rev1 + "', source has '" + rev2 + "'", wantType: "notready",
		},
		{
			name: "readyExpr replaces the built-in check",
			deps: []Dep{{Ref: ref("infra@dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"),
				Obj: obj(t, kustomization("infra", "app/version: '2'", "4", "4", rev1, readyFalse)), Revision: rev2}},
		},
		{
			name:     "additive readyExpr true, built-in check false",
			additive: true,
			deps: []Dep{{Ref: ref("infra@dep.metadata.labels['app/version'] == self.metadata.labels['app/version']"),
				Obj: obj(t, kustomization("infra", "app/version: '2'", "4", "4", rev1, readyFalse))}},
			wantErr: "dependency 'flux-system/infra' is not ready", wantType: "notready",
		},
		{
			name:     "additive readyExpr and built-in check true",
			additive: true,
			deps:     []Dep{{Ref: ref("infra@dep.status.lastAppliedRevision.startsWith('main@')"), Obj: obj(t, infra)}},
		},
		{
			name:     "readyExpr false names the dependency and expression",
			deps:     []Dep{{Ref: ref("infra@dep.metadata.labels['app/version'] == '3'"), Obj: obj(t, infra)}},
			wantErr:  "dependency 'flux-system/infra' is not ready according to readyExpr 'dep.metadata.labels['app/version'] == '3''",
			wantType: "notready",
		},
		{
			name: "readyExpr with the documented generation and condition checks",
			deps: []Dep{{Ref: meta.DependencyReference{Name: "infra", ReadyExpr: `dep.metadata.generation == dep.status.observedGeneration &&
dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True') &&
dep.status.lastAppliedRevision == '` + rev1 + `'`}, Obj: obj(t, infra)}},
		},
		{
			name:     "readyExpr reading a missing field waits",
			deps:     []Dep{{Ref: ref("infra@dep.status.lastAttemptedRevision == 'x'"), Obj: obj(t, infra)}},
			wantErr:  "dependency 'flux-system/infra': evaluating readyExpr 'dep.status.lastAttemptedRevision == 'x'': no such key: lastAttemptedRevision",
			wantType: "notready",
		},
		{
			name:     "readyExpr returning a string at run time",
			deps:     []Dep{{Ref: ref("infra@dep.status.lastAppliedRevision"), Obj: obj(t, infra)}},
			wantErr:  "evaluating readyExpr 'dep.status.lastAppliedRevision': returned string, not bool",
			wantType: "notready",
		},
		{
			name:     "readyExpr typed as string does not compile",
			deps:     []Dep{{Ref: ref("infra@'ready'"), Obj: obj(t, infra)}},
			wantErr:  "invalid readyExpr ''ready'' for dependency 'flux-system/infra': expression must evaluate to bool, got string",
			wantType: "invalid",
		},
		{
			name:     "readyExpr typed as int does not compile",
			deps:     []Dep{{Ref: ref("infra@size(dep.status.conditions)"), Obj: obj(t, infra)}},
			wantErr:  "must evaluate to bool, got int",
			wantType: "invalid",
		},
		{
			name:     "syntax error",
			deps:     []Dep{{Ref: ref("infra@dep.status.conditions.filter(e, e.type == 'Ready'"), Obj: obj(t, infra)}},
			wantErr:  "invalid readyExpr 'dep.status.conditions.filter(e, e.type == 'Ready'' for dependency 'flux-system/infra': ERROR",
			wantType: "invalid",
		},
		{
			name:     "undeclared variable",
			deps:     []Dep{{Ref: ref("infra@obj.status.ready"), Obj: obj(t, infra)}},
			wantErr:  "undeclared reference to 'obj'",
			wantType: "invalid",
		},
		{
			name:     "invalid expression wins over a missing dependency listed first",
			deps:     []Dep{{Ref: ref("db")}, {Ref: ref("infra@dep.x =="), Obj: obj(t, infra)}},
			wantErr:  "invalid readyExpr 'dep.x ==' for dependency 'flux-system/infra'",
			wantType: "invalid",
		},
		{
			name:     "depending on itself",
			deps:     []Dep{{Ref: ref("flux-system/apps"), Obj: obj(t, apps)}},
			wantErr:  "circular dependency: flux-system/apps -> flux-system/apps",
			wantType: "cycle",
		},
	}
	checkers := map[bool]*Checker{}
	for _, additive := range []bool{false, true} {
		c, err := NewChecker(additive)
		if err != nil {
			t.Fatal(err)
		}
		checkers[additive] = c
	}
	dependent := obj(t, apps)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkers[tt.additive].Check(dependent, tt.deps)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			var nr *NotReadyError
			var ie *InvalidExprError
			var ce *CycleError
			got := map[bool]string{errors.As(err, &nr): "notready", errors.As(err, &ie): "invalid", errors.As(err, &ce): "cycle"}[true]
			if got != tt.wantType {
				t.Errorf("error %T, want kind %s", err, tt.wantType)
			}
		})
	}
}

// TestPackageLevelFunctions checks the one-shot Check and CompileReadyExpr.
func TestPackageLevelFunctions(t *testing.T) {
	dependent := obj(t, kustomization("apps", "", "1", "1", "", readyTrue))
	if err := Check(dependent, []Dep{{Ref: ref("infra"), Obj: obj(t, kustomization("infra", "", "2", "2", "", readyTrue))}}); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := Check(dependent, []Dep{{Ref: ref("infra")}}); err == nil || err.Error() != "dependency 'flux-system/infra' not found" {
		t.Errorf("Check: got %v", err)
	}
	x, err := CompileReadyExpr("dep.metadata.name == 'infra' && self.metadata.name == 'apps'")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := x.Eval(dependent, obj(t, kustomization("infra", "", "2", "2", "", ""))); err != nil || !ok {
		t.Errorf("Eval = %v, %v; want true", ok, err)
	}
	for _, bad := range []string{"", "dep.", "1 + 1", "dep.metadata.name + 'x'", "unknownFn(dep)"} {
		_, err := CompileReadyExpr(bad)
		var ie *InvalidExprError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "invalid readyExpr '"+bad+"'") {
			t.Errorf("CompileReadyExpr(%q) = %v, want *InvalidExprError naming it", bad, err)
		}
	}
}

// TestValidate checks up-front validation of a dependsOn list.
func TestValidate(t *testing.T) {
	c, err := NewChecker(false)
	if err != nil {
		t.Fatal(err)
	}
	refs := meta.MakeDependsOn([]string{"infra", "other/db@dep.status.ready == true"})
	if err := c.Validate("flux-system", refs); err != nil {
		t.Errorf("valid refs: %v", err)
	}
	refs = append(refs, ref("other/cache@dep.status.ready = true"))
	err = c.Validate("flux-system", refs)
	if err == nil || !strings.Contains(err.Error(), "invalid readyExpr 'dep.status.ready = true' for dependency 'other/cache'") {
		t.Errorf("invalid ref: got %v", err)
	}
}

// TestCheckConcurrent shares one Checker between goroutines (run with -race) and checks that
// each distinct expression is compiled once.
func TestCheckConcurrent(t *testing.T) {
	c, err := NewChecker(false)
	if err != nil {
		t.Fatal(err)
	}
	dependent := obj(t, kustomization("apps", "", "1", "1", "", readyTrue))
	ready := obj(t, kustomization("infra", "", "2", "2", "", readyTrue))
	notReady := obj(t, kustomization("infra", "", "2", "2", "", readyFalse))
	expr := "dep.status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')"
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := c.Check(dependent, []Dep{{Ref: ref("infra@" + expr), Obj: ready}}); err != nil {
					errs <- err
				}
				if err := c.Check(dependent, []Dep{{Ref: ref("infra@" + expr), Obj: notReady}}); err == nil {
					errs <- errors.New("not ready dependency passed")
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(c.comp.exprs); n != 1 {
		t.Errorf("%d cached expressions, want 1", n)
	}
}

// TestCostLimit checks that a runaway readyExpr is stopped rather than holding a worker.
func TestCostLimit(t *testing.T) {
	c, err := NewChecker(false)
	if err != nil {
		t.Fatal(err)
	}
	dependent := obj(t, kustomization("apps", "", "1", "1", "", readyTrue))
	err = c.Check(dependent, []Dep{{Ref: ref("infra@lists.range(1000).all(i, lists.range(1000).all(j, i + j >= 0))"), Obj: dependent}})
	if err == nil || !strings.Contains(err.Error(), "cost limit exceeded") {
		t.Errorf("got %v, want cost limit error", err)
	}
}
