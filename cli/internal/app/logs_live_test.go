package app

import (
	"regexp"
	"strings"
	"testing"
)

// logs filters and formats the JSON logs this run's controllers wrote, and shows that
// reading pods fails clearly when the controllers are not pods.
func (lc *liveCase) logs(t *testing.T) {
	kc, err := lc.env.Controller("kustomize-controller")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := lc.env.Controller("source-controller")
	if err != nil {
		t.Fatal(err)
	}
	// The controllers of this run wrote their logs as JSON lines: read them back.
	r := lc.run(t, 0, "logs", "-A", "--from-file", kc.Logs, "--from-file", sc.Logs)
	entryRE := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (info|error|debug) (\w+(/[\w.-]+){0,2} )?- .+`)
	n := 0
	for _, l := range lines(r.stdout) {
		if strings.HasPrefix(l, "20") {
			n++
			if !entryRE.MatchString(l) {
				t.Errorf("malformed entry %q", l)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no entries:\n%s", r.stdout)
	}
	r = lc.run(t, 0, "logs", "--kind", "Kustomization", "--name", "root", "--from-file", kc.Logs, "--from-file", sc.Logs)
	for _, l := range lines(r.stdout) {
		if l != "" && !strings.Contains(l, " Kustomization/flux-system/root - ") {
			t.Errorf("entry of another object: %q", l)
		}
	}
	// The framework runs the controllers as processes: there are no pods to read.
	r = lc.run(t, 1, "logs")
	wants(t, "stderr", r.stderr, "✗ no Flux controller pods found in namespace flux-system")
}
