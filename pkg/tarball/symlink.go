package tarball

import (
	"os"
	"path/filepath"
	"strings"
)

// maxLinkHops bounds how many symlinks one resolution may follow; deeper chains (or loops)
// are treated as escaping, which is what the kernel's ELOOP would make of them anyway.
const maxLinkHops = 40

// linkEscapes reports whether following a symlink stored at linkRel (slash separated,
// relative to root, its parent directories being real directories) with the given target
// would ever leave root, resolving intermediate symlinks against the real file system.
//
// A lexical check alone is not enough: with b -> "." a link a -> "b/.." looks like it stays
// in root, yet the kernel resolves it to root's parent. Components that do not exist are
// resolved lexically (the kernel could not walk through them). Leaving root and coming back
// ("../root/x") counts as escaping: it depends on root's name, which the archive cannot know.
func linkEscapes(root, linkRel, target string) bool {
	if target == "" || filepath.IsAbs(target) || strings.HasPrefix(target, "/") {
		return true
	}
	cur := splitRel(linkRel)
	if len(cur) == 0 {
		return true // a link cannot be the root itself
	}
	cur = cur[:len(cur)-1]
	todo := strings.Split(target, "/")
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return true
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := append(cur[:len(cur):len(cur)], c)
		fi, err := os.Lstat(filepath.Join(root, filepath.Join(next...)))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			// A real file or directory, or nothing (resolved lexically from here on).
			cur = next
			continue
		}
		hops++
		if hops > maxLinkHops {
			return true
		}
		t, err := os.Readlink(filepath.Join(root, filepath.Join(next...)))
		if err != nil || t == "" || filepath.IsAbs(t) {
			return true
		}
		todo = append(strings.Split(t, "/"), todo...)
	}
	return false
}

// splitRel splits a slash separated relative path into its non-empty components.
func splitRel(rel string) []string {
	var out []string
	for _, c := range strings.Split(rel, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}
