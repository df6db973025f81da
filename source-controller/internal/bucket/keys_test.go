package bucket

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	good := []string{"a", "a/b/c.yaml", ".sourceignore.d/x", "..a", "a..", "a/..b/c", "dir/.hidden", "ünïcode/ключ", "a b/c d"}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	bad := []string{"", "..", "../x", "a/../../x", "a/..", "/etc/passwd", `a\b`, `..\..\x`, "a//b", "./a", "a/./b", "a/", "a\x00b", "\xff"}
	for _, k := range bad {
		err := ValidateKey(k)
		if err == nil {
			t.Errorf("ValidateKey(%q) = nil, want an error", k)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", k)) {
			t.Errorf("ValidateKey(%q) error %q does not name the key", k, err)
		}
	}
}

func FuzzValidateKey(f *testing.F) {
	for _, k := range []string{"a/b", "../x", `a\b`, "/x", "a//b", "."} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidateKey(key) != nil {
			return
		}
		// An accepted key is a clean relative path: no segment can climb or alias.
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted %q with segment %q", key, seg)
			}
		}
		if strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
			t.Fatalf("accepted %q", key)
		}
	})
}
