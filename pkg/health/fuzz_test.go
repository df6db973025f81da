package health

import (
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
)

// FuzzEvaluateCEL feeds arbitrary healthCheckExprs (user input) through compilation and
// evaluation: either NewEvaluator rejects the expression or Evaluate returns a result, never a
// panic, and an evaluation error always comes with status Unknown.
func FuzzEvaluateCEL(f *testing.F) {
	for _, s := range []string{
		"status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
		"has(status.phase) && status.phase == 'Running'",
		"self.metadata.name.startsWith('w') || data.x == 'y'",
		"status.replicas > 1.5",
		"status.conditions.exists(e, e.type == 'Ready' && e.message.matches('^ok'))",
		"status.?observedGeneration.orValue(0) == metadata.generation",
		"lists.range(100).all(i, i >= 0)",
	} {
		f.Add(s)
	}
	comp, err := NewCompiler()
	if err != nil {
		f.Fatal(err)
	}
	o := obj(f, `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps, generation: 2, labels: {a: b}}
spec: {replicas: 2, items: [1, 2.5, "x", null, {k: v}]}
status:
  observedGeneration: 2
  phase: Running
  replicas: 2
  conditions:
  - {type: Ready, status: "True", message: ok}
data: {x: y}
`)
	f.Fuzz(func(t *testing.T, expr string) {
		ev, err := comp.NewEvaluator([]kustomize.CustomHealthCheck{check("example.com/v1", "Widget", expr, expr, expr)})
		if err != nil {
			return
		}
		res, err := ev.Evaluate(o)
		if (err != nil) != (res.Status == Unknown) {
			t.Fatalf("Evaluate(%q) = %v, %v: error and Unknown must go together", expr, res, err)
		}
	})
}
