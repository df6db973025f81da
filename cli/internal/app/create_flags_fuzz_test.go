package app

import (
	"path"
	"strings"
	"testing"
)

// FuzzCreateFlags feeds arbitrary text to the parsers of create's flag values and checks
// their promises: --path never leaves the source root, --source and --health-check yield a
// name or an error, labels are valid or refused, and nothing panics.
func FuzzCreateFlags(f *testing.F) {
	for _, s := range []string{"./deploy", "../x", "/abs", "a/../../b", "./", "", "GitRepository/podinfo.flux-system",
		"oci/x", "Deployment/app.default", "a=b", "=", "ready=false", "sha1:0123456789abcdef", "x/y/z.w.v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := safeRelativePath(s); err == nil {
			if !strings.HasPrefix(p, "./") {
				t.Fatalf("safeRelativePath(%q) = %q: not ./-relative", s, p)
			}
			if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
				t.Fatalf("safeRelativePath(%q) = %q leaves the root", s, p)
			}
		}
		if ref, err := parseSourceFlag(s); err == nil && (ref.Name == "" || ref.Kind == "") {
			t.Fatalf("parseSourceFlag(%q) = %+v without error", s, ref)
		}
		if ref, err := parseHealthCheck(s); err == nil && (ref.Name == "" || ref.Namespace == "" || ref.APIVersion == "") {
			t.Fatalf("parseHealthCheck(%q) = %+v without error", s, ref)
		}
		if labels, err := parseLabels([]string{s}); err == nil && len(labels) != 1 {
			t.Fatalf("parseLabels(%q) = %v without error", s, labels)
		}
		if sel, err := parseStatusSelector(s); err == nil && s != "" && (sel.condition == "" || sel.status == "") {
			t.Fatalf("parseStatusSelector(%q) = %+v", s, sel)
		}
		if got := truncateHex(s); len(got) > len(s) {
			t.Fatalf("truncateHex(%q) = %q grew", s, got)
		}
	})
}
