package substitute

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// exact substitutes the way upstream does, for comparison with the fast path.
func exact(t testing.TB, m map[string]any, vars map[string]string) (map[string]any, error) {
	t.Helper()
	o := &unstructured.Unstructured{Object: m}
	src, err := yaml.Marshal(m)
	if err != nil {
		return nil, errRender
	}
	if err := applyText(o, src, vars, Options{Strict: true}); err != nil {
		return nil, err
	}
	return o.Object, nil
}

// errRender marks objects the exact path cannot even render (control
// characters the YAML library refuses); the fast path may handle those.
var errRender = errors.New("cannot render")

func testObject(s string) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "cm", "labels": map[string]any{"keep": "me"}},
		"data":       map[string]any{"k": s, "other": "x"},
		"list":       []any{"a", s, int64(3)},
		"nested":     []any{map[string]any{"v": s}},
	}
}

// checkFastAgainstExact fails when the fast path handles an input and
// disagrees with the exact path.
func checkFastAgainstExact(t testing.TB, s, val string) (handled bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		// Rendering replaces invalid UTF-8, which objects parsed from YAML
		// never hold; the fast path leaves such strings alone.
		return false
	}
	vars := map[string]string{"X": val, "Y": "y"}
	in := testObject(s)
	orig := testObject(s)
	fast, ok := substituteFast(in, vars, Options{Strict: true})
	if !reflect.DeepEqual(in, orig) {
		t.Fatalf("fast path modified its input for %q / %q", s, val)
	}
	if !ok || checkObject(fast) != nil {
		return false
	}
	want, err := exact(t, testObject(s), vars)
	if err == errRender {
		return true
	}
	if err != nil {
		t.Fatalf("s=%q X=%q: fast path succeeded, exact path failed: %v", s, val, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("s=%q X=%q:\nfast  %#v\nexact %#v", s, val, fast, want)
	}
	return true
}

var (
	diffStrings = []string{
		"${X}", "a-${X}", "${X}-b", "${X:=0}", "x ${X} y", "${X}:${X}", "${X}${X}",
		"pre ${X} #c", "${X}/${Y}", "[${X}]", "${X} ", " ${X}", "${X}:", "- ${X}", "${X}\n",
		"é${X}", "$${X}", "${X^^}", "${X:-1.5}", "${UNSET:=${X}}", "#${X}", "${X} # x",
		"${X}: y", "{${X}}", "${X},${X}", "?${X}", "-${X}", ":${X}", "${X}\tz", "${#X}",
		"---${X}", "...${X}", "${X}'", "\"${X}\"", "${X}%", "@${X}", "a: ${X}",
	}
	diffValues = []string{
		"", "0", "1", "01", "0x1F", "0o17", "1.5", "1e3", "-1", "+1", "1_000", "0b101", "-0b1",
		"1:20", "9223372036854775807", "99999999999999999999", "123456789012345678",
		"true", "yes", "on", "y", "n", "No", "null", "~", "Null", "NaN", ".inf", "-.inf", ".5",
		"100m", "16Mi", "2h", "1.5Gi", "1e5m", "2024-01-01", "2024-01-01T00:00:00Z", "2024-1-2 3:04:05",
		"a: b", "a #b", "#x", "[a, b]", "[a", "{a: 1}", "{}", "[]", "- a", "-", "?", "?x", "|", ">",
		"'q'", "\"q\"", "it's", "multi\nline", "tab\tx", " lead", "trail ", "&a x", "*a",
		"!!str 5", "!!int 5", "%x", "@x", "`x", "a:b", "abc:", "<<", "é", "ok", "x,y", "${Y}",
		"$${Y}", "podinfo-42.local", "registry.io/app:v1.2@sha256:abc", "a=b+c",
	}
)

func TestFastPathMatchesExact(t *testing.T) {
	handled := 0
	for _, s := range diffStrings {
		for _, v := range diffValues {
			if checkFastAgainstExact(t, s, v) {
				handled++
			}
		}
	}
	// The fast path must actually carry the common cases.
	if total := len(diffStrings) * len(diffValues); handled < total/3 {
		t.Errorf("fast path handled only %d of %d cases", handled, total)
	}
	for _, c := range []struct{ s, v string }{{"${X}", "3"}, {"podinfo-${X}", "7"}, {"${X}", "100m"}, {"${X:=0}", ""}} {
		if !checkFastAgainstExact(t, c.s, c.v) {
			t.Errorf("fast path did not handle %q with X=%q", c.s, c.v)
		}
	}
}

// TestRendersPlain checks the emulation of the renderer's style choice.
func TestRendersPlain(t *testing.T) {
	for _, s := range diffStrings {
		checkRendersPlain(t, s)
	}
}

func checkRendersPlain(t testing.TB, s string) {
	t.Helper()
	if !strings.Contains(s, "${") || !rendersPlain(s) || len(s) > 60 {
		return
	}
	out, err := yaml.Marshal(map[string]any{"k": s})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "k: "+s+"\n" {
		t.Fatalf("rendersPlain(%q) but the renderer wrote %q", s, out)
	}
}
