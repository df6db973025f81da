package setters

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const podinfoDigest = "sha256:6129bb944cada32b4662eafd13fd9904d34c77286bf2ec4523eaedb711757cb0"

func testPolicies() map[string]Policy {
	ps := []Policy{
		{Namespace: "flux-system", Name: "podinfo", Image: "ghcr.io/stefanprodan/podinfo", Tag: "6.5.0", Digest: podinfoDigest},
		{Namespace: "flux-system", Name: "app", Image: "registry.example.com/team/app", Tag: "1.10"},
	}
	m := map[string]Policy{}
	for _, p := range ps {
		m[p.Key()] = p
	}
	return m
}

// TestGoldenStyles checks a file full of comments and quoting styles: only the marked values
// change, every other byte stays.
func TestGoldenStyles(t *testing.T) {
	in, err := os.ReadFile("testdata/golden/styles.input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, changes, warnings, err := ApplyBytes(in, testPolicies())
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/golden/styles.golden.yaml"
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("output differs from %s:\n%s", golden, out)
	}
	assertOnlyLinesChanged(t, in, out, changedLines(changes))

	var got []string
	for _, c := range changes {
		got = append(got, c.Object.Kind+"/"+c.Object.Name+" "+c.Setter+": "+c.OldValue+" -> "+c.NewValue)
	}
	wantChanges := []string{
		"Deployment/podinfo flux-system:podinfo: ghcr.io/stefanprodan/podinfo:6.3.0 -> ghcr.io/stefanprodan/podinfo:6.5.0@" + podinfoDigest,
		"Deployment/podinfo flux-system:app: registry.example.com/team/app:1.9 -> registry.example.com/team/app:1.10",
		"HelmRelease/podinfo flux-system:podinfo:tag: 6.3.0 -> 6.5.0",
		"HelmRelease/podinfo flux-system:podinfo:digest: sha256:0000000000000000000000000000000000000000000000000000000000000000 -> " + podinfoDigest,
		"HelmRelease/podinfo flux-system:app:tag: 1.9 -> 1.10",
		"HelmRelease/podinfo flux-system:app:tag: 1.9 -> 1.10",
		"HelmRelease/podinfo flux-system:app:tag: 1.9 -> 1.10",
		"HelmRelease/podinfo flux-system:app: ünïcode → registry.example.com/team/app:1.9 -> registry.example.com/team/app:1.10",
		"/ flux-system:app: registry.example.com/team/app:1.8 -> registry.example.com/team/app:1.10",
		"/ flux-system:app: registry.example.com/team/app:1.8 -> registry.example.com/team/app:1.10",
	}
	if !slices.Equal(got, wantChanges) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
	}
	// The block scalar is the one marker left alone, with a warning.
	if len(warnings) != 1 || !strings.Contains(warnings[0].Reason, "block scalars") || warnings[0].Setter != "flux-system:app" {
		t.Errorf("warnings = %+v", warnings)
	}
	// Applying again changes nothing.
	again, changes2, _, err := ApplyBytes(out, testPolicies())
	if err != nil || len(changes2) != 0 || !bytes.Equal(again, out) {
		t.Fatalf("second run changed %d values (%v)", len(changes2), err)
	}
}

func changedLines(changes []FileChange) map[int]bool {
	lines := map[int]bool{}
	for _, c := range changes {
		lines[c.Line] = true
	}
	return lines
}

// assertOnlyLinesChanged compares in and out line by line (the setters never add or remove
// lines) and fails on a difference outside lines.
func assertOnlyLinesChanged(t *testing.T, in, out []byte, lines map[int]bool) {
	t.Helper()
	a, b := bytes.SplitAfter(in, []byte("\n")), bytes.SplitAfter(out, []byte("\n"))
	if len(a) != len(b) {
		t.Fatalf("line count changed: %d -> %d", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) && !lines[i+1] {
			t.Errorf("line %d changed but holds no applied setter:\n- %q\n+ %q", i+1, a[i], b[i])
		}
	}
}
