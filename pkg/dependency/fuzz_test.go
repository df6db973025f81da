package dependency

import (
	"errors"
	"testing"
)

// FuzzReadyExpr feeds arbitrary readyExprs (user input) through Check: the result is nil, an
// *InvalidExprError or a *NotReadyError, never a panic.
func FuzzReadyExpr(f *testing.F) {
	for _, s := range []string{
		"dep.metadata.generation == dep.status.observedGeneration",
		"dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
		"self.metadata.labels['app/version'] == dep.metadata.labels['app/version']",
		"dep.status.lastAppliedRevision.startsWith('main@')",
		"dep.?status.?missing.orValue('') == ''",
		"size(dep.status.conditions) > 0.5",
	} {
		f.Add(s)
	}
	c, err := NewChecker(false)
	if err != nil {
		f.Fatal(err)
	}
	dependent := obj(f, kustomization("apps", "app/version: '2'", "1", "1", "", readyTrue))
	depObj := obj(f, kustomization("infra", "app/version: '2'", "4", "4", rev1, readyTrue))
	f.Fuzz(func(t *testing.T, expr string) {
		if expr == "" {
			return // no readyExpr: the built-in check
		}
		err := c.Check(dependent, []Dep{{Ref: ref("infra@" + expr), Obj: depObj}})
		var nr *NotReadyError
		var ie *InvalidExprError
		if err != nil && !errors.As(err, &nr) && !errors.As(err, &ie) {
			t.Fatalf("Check(%q) = %T %v", expr, err, err)
		}
	})
}
