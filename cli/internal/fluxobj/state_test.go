package fluxobj

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// waitFixture is a Kustomization at generation 2 with the given status (YAML).
func waitFixture(t *testing.T, status string) *unstructured.Unstructured {
	t.Helper()
	doc := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: flux-system, generation: 2}\nstatus: " + status
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	return u
}

// cond renders one condition for waitFixture.
func cond(typ, status, msg string) string {
	return fmt.Sprintf("{type: %s, status: %q, reason: R, message: %q}", typ, status, msg)
}

// TestWaitChecks: what create/resume (ReadyCheck) and reconcile (ReconciledCheck) make of
// the states the controllers report.
func TestWaitChecks(t *testing.T) {
	ks, _ := LookupKind("", "kustomization")
	const token = "2026-01-02T03:04:05.123456789Z"
	tests := []struct {
		name       string
		status     string
		ready      string // readyCheck: "done", "wait" or the error
		reconciled string // reconciledCheck
	}{
		{"no status yet", "{}", "wait", "wait"},
		{"ready", "{observedGeneration: 2, lastHandledReconcileAt: '" + token + "', conditions: [" + cond("Ready", "True", "Applied") + "]}", "done", "done"},
		{"ready, request not handled yet", "{observedGeneration: 2, lastHandledReconcileAt: old, conditions: [" + cond("Ready", "True", "Applied") + "]}", "done", "wait"},
		{"ready at an older generation", "{observedGeneration: 1, lastHandledReconcileAt: '" + token + "', conditions: [" + cond("Ready", "True", "Applied") + "]}", "wait", "wait"},
		{"in progress", "{observedGeneration: 1, lastHandledReconcileAt: '" + token + "', conditions: [" + cond("Ready", "Unknown", "Reconciliation in progress") + "," + cond("Reconciling", "True", "x") + "]}", "wait", "wait"},
		{"failing, retrying", "{observedGeneration: 1, lastHandledReconcileAt: '" + token + "', conditions: [" + cond("Ready", "False", "kustomize build failed") + "," + cond("Reconciling", "True", "x") + "]}",
			"wait", "Kustomization reconciliation failed: 'kustomize build failed'"},
		{"stalled", "{observedGeneration: 2, conditions: [" + cond("Ready", "False", "invalid path") + "," + cond("Stalled", "True", "invalid path") + "]}",
			"Kustomization flux-system/app reconciliation failed: invalid path", "wait"},
	}
	judge := func(check Check, u *unstructured.Unstructured) string {
		done, err := check(u)
		switch {
		case err != nil:
			return err.Error()
		case done:
			return "done"
		}
		return "wait"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := waitFixture(t, tt.status)
			if got := judge(ReadyCheck(ks), u); got != tt.ready {
				t.Errorf("readyCheck: %s, want %s", got, tt.ready)
			}
			if got := judge(ReconciledCheck(ks, token), u); got != tt.reconciled {
				t.Errorf("reconciledCheck: %s, want %s", got, tt.reconciled)
			}
		})
	}
}

func TestReconcileStateWhy(t *testing.T) {
	for status, want := range map[string]string{
		"{}": "not reconciled yet",
		"{observedGeneration: 1, conditions: [" + cond("Ready", "True", "ok") + "]}":       "the controller has not seen the latest generation yet",
		"{observedGeneration: 2, conditions: [" + cond("Ready", "False", "no auth") + "]}": "Ready=False: no auth",
		"{observedGeneration: 2, conditions: [" + cond("Ready", "Unknown", "") + "]}":      "Ready=Unknown",
	} {
		if got := StateOf(waitFixture(t, status)).Why(); !strings.EqualFold(got, want) {
			t.Errorf("%s: why() = %q, want %q", status, got, want)
		}
	}
}
