package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var unifiedDiffCases = []struct {
	name, a, b string
}{
	{"equal", "a\nb\n", "a\nb\n"},
	{"one line changed", "a\nb\nc\n", "a\nB\nc\n"},
	{"added at the start", "b\nc\n", "a\nb\nc\n"},
	{"added at the end", "a\nb\n", "a\nb\nc\n"},
	{"removed everything", "a\nb\n", ""},
	{"from nothing", "", "a\nb\n"},
	{"two hunks", numbered(1, 30), strings.Replace(strings.Replace(numbered(1, 30), "l3\n", "x3\n", 1), "l25\n", "x25\n", 1)},
	{"changes 6 lines apart share a hunk", numbered(1, 20), strings.Replace(strings.Replace(numbered(1, 20), "l5\n", "x5\n", 1), "l12\n", "x12\n", 1)},
	{"changes 7 lines apart do not", numbered(1, 20), strings.Replace(strings.Replace(numbered(1, 20), "l5\n", "x5\n", 1), "l13\n", "x13\n", 1)},
	{"moved block", "a\nb\nc\nd\ne\n", "d\ne\na\nb\nc\n"},
	{"yaml field", "spec:\n  replicas: 1\n  selector:\n    app: x\n", "spec:\n  replicas: 3\n  selector:\n    app: x\n  paused: true\n"},
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString("l" + strconv.Itoa(i) + "\n")
	}
	return b.String()
}

// TestUnifiedDiffWithPatch applies each diff with GNU patch: the result must be exactly the
// new text, which checks both the edit script and the hunk headers.
func TestUnifiedDiffWithPatch(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Fatal("GNU patch is not installed: run `make test-deps`")
	}
	for _, tt := range unifiedDiffCases {
		t.Run(tt.name, func(t *testing.T) {
			d := unifiedDiff(tt.a, tt.b, "a", "b", 3)
			if tt.a == tt.b {
				if d != "" {
					t.Fatalf("diff of equal texts: %q", d)
				}
				return
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "file")
			if err := os.WriteFile(file, []byte(tt.a), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("patch", "--silent", "--force", file)
			cmd.Stdin = strings.NewReader(d)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("patch refused the diff: %v\n%s\ndiff:\n%s", err, out, d)
			}
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.b {
				t.Fatalf("patched text differs:\n%q\nwant\n%q\ndiff:\n%s", got, tt.b, d)
			}
		})
	}
}

// TestUnifiedDiffMatchesGNUDiff: where the longest common subsequence is unique, GNU diff
// -u prints the same hunks.
func TestUnifiedDiffMatchesGNUDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Fatal("GNU diff is not installed: run `make test-deps`")
	}
	for _, tt := range unifiedDiffCases {
		if tt.a == tt.b || tt.name == "moved block" { // several minimal scripts exist
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			_ = os.WriteFile(a, []byte(tt.a), 0o644)
			_ = os.WriteFile(b, []byte(tt.b), 0o644)
			out, _ := exec.Command("diff", "-u", "--label", "a", "--label", "b", a, b).Output()
			if got := unifiedDiff(tt.a, tt.b, "a", "b", 3); got != string(out) {
				t.Fatalf("got\n%s\nGNU diff -u says\n%s", got, out)
			}
		})
	}
}

// applyUnified applies a diff produced by unifiedDiff to a (a minimal patch for the fuzz test).
func applyUnified(t *testing.T, a, d string) string {
	t.Helper()
	if d == "" {
		return a
	}
	src := splitLines(a)
	var out []string
	next := 0 // index into src of the next line not yet copied
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n")[2:] {
		switch {
		case strings.HasPrefix(l, "@@ -"):
			r := strings.Fields(l)[1][1:]
			start, _ := strconv.Atoi(strings.Split(r, ",")[0])
			if !strings.Contains(r, ",0") && start > 0 {
				start--
			}
			for ; next < start; next++ {
				out = append(out, src[next])
			}
		case strings.HasPrefix(l, " "):
			if src[next] != l[1:] {
				t.Fatalf("context %q does not match line %d %q", l, next+1, src[next])
			}
			out = append(out, src[next])
			next++
		case strings.HasPrefix(l, "-"):
			if src[next] != l[1:] {
				t.Fatalf("removed %q does not match line %d %q", l, next+1, src[next])
			}
			next++
		case strings.HasPrefix(l, "+"):
			out = append(out, l[1:])
		}
	}
	out = append(out, src[next:]...)
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// FuzzUnifiedDiff: applying the diff of any two texts to the first gives the second.
func FuzzUnifiedDiff(f *testing.F) {
	for _, tt := range unifiedDiffCases {
		f.Add(tt.a, tt.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a)+len(b) > 4096 {
			t.Skip()
		}
		// Only newline-terminated texts round-trip (diff -u marks a missing final newline).
		if a != "" && !strings.HasSuffix(a, "\n") || b != "" && !strings.HasSuffix(b, "\n") {
			t.Skip()
		}
		if got := applyUnified(t, a, unifiedDiff(a, b, "a", "b", 3)); got != b {
			t.Fatalf("round trip: got %q, want %q", got, b)
		}
	})
}
