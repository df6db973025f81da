package substitute

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzSubstitute checks that expansion never panics, that escaping every
// "${" as "$${" turns any text into a literal that expands back to itself,
// and that Apply on an object holding the text never panics.
func FuzzSubstitute(f *testing.F) {
	for _, s := range diffStrings {
		f.Add(s, "v")
	}
	for _, s := range []string{"$${X}", "$$${X}", "${X:=${Y:-${Z}}}", "${X/a/${Y}}", "${X#*}", "${X: -3:2}", "${#X}", "${", "$"} {
		f.Add(s, "1")
	}
	f.Fuzz(func(t *testing.T, s, val string) {
		vars := map[string]string{"X": val, "Y": "y"}
		for _, strict := range []bool{false, true} {
			_, _ = Expand(s, vars, Options{Strict: strict})
			esc := strings.ReplaceAll(s, "${", "$${")
			got, err := Expand(esc, vars, Options{Strict: strict})
			if err != nil || got != s {
				t.Fatalf("escaped %q expanded to %q, %v", esc, got, err)
			}
		}
		o := &unstructured.Unstructured{Object: testObject(s)}
		_ = Apply([]*unstructured.Unstructured{o}, vars, Options{Strict: true})
	})
}

// FuzzFastPath checks the fast path against the exact one (see fast.go).
func FuzzFastPath(f *testing.F) {
	for _, s := range diffStrings {
		for _, v := range diffValues {
			f.Add(s, v)
		}
	}
	f.Fuzz(func(t *testing.T, s, val string) {
		checkRendersPlain(t, s)
		checkFastAgainstExact(t, s, val)
	})
}
