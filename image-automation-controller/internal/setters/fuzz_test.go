package setters

import (
	"bytes"
	"os"
	"testing"
)

// FuzzSetters feeds arbitrary files to ApplyBytes. Whatever the input: no panic; when values
// are set, the output still parses, has the same lines, differs only on lines that hold an
// applied setter, and a second run changes nothing.
func FuzzSetters(f *testing.F) {
	for _, seed := range []string{"testdata/golden/styles.input.yaml", "testdata/golden/tree/apps/podinfo/deployment.yaml"} {
		data, err := os.ReadFile(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x v1 # {\"$imagepolicy\": \"flux-system:app:tag\"}\nb: *x\n"))
	f.Add([]byte("- 'it''s' # {\"$imagepolicy\": \"flux-system:app\"}\n"))
	policies := testPolicies()
	f.Fuzz(func(t *testing.T, data []byte) {
		out, changes, _, err := ApplyBytes(data, policies)
		if err != nil || len(changes) == 0 {
			return
		}
		if _, err := decodeAll(out); err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, out)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(data, []byte("\n")) {
			t.Fatalf("line count changed:\n%q\n%q", data, out)
		}
		assertOnlyLinesChanged(t, data, out, changedLines(changes))
		again, changes2, _, err := ApplyBytes(out, policies)
		if err != nil || len(changes2) != 0 || !bytes.Equal(again, out) {
			t.Fatalf("second run: %d changes, %v\n%q", len(changes2), err, out)
		}
	})
}
