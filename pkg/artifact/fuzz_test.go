package artifact

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRequestPath feeds arbitrary request paths (untrusted HTTP input) and digests through
// the checks the handler and Verify rely on: an accepted path must stay inside the storage,
// never reach hidden directories, and name a well-formed digest.
func FuzzRequestPath(f *testing.F) {
	f.Add("gitrepository/default/app/" + strings.Repeat("a", 64) + ".tar.gz")
	f.Add(".blobs/sha256/" + strings.Repeat("a", 64))
	f.Add("a/../../etc/" + strings.Repeat("b", 96) + ".tgz")
	f.Add("x//y/" + strings.Repeat("c", 128))
	f.Fuzz(func(t *testing.T, rel string) {
		base := "/storage"
		if validRelPath(rel) {
			p := filepath.Join(base, filepath.FromSlash(rel))
			if !strings.HasPrefix(p, base+"/") {
				t.Fatalf("%q resolves to %s outside the storage", rel, p)
			}
			for _, c := range strings.Split(rel, "/") {
				if strings.HasPrefix(c, ".") {
					t.Fatalf("%q reaches hidden %q", rel, c)
				}
			}
		}
		if algo, hexSum, ok := nameDigest(filepath.Base(rel)); ok {
			if a, h, err := ParseDigest(algo + ":" + hexSum); err != nil || a != algo || h != hexSum {
				t.Fatalf("name %q gave digest %s:%s that does not parse back: %v", rel, algo, hexSum, err)
			}
		}
		if algo, hexSum, err := ParseDigest(rel); err == nil && algo+":"+hexSum != rel {
			t.Fatalf("ParseDigest(%q) = %s:%s", rel, algo, hexSum)
		}
	})
}
