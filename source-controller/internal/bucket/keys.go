package bucket

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidateKey accepts an object key only when it is a plain relative slash-separated path, so
// that the object lands inside the working directory under exactly that name: not empty, not
// absolute, no backslash (a separator on Windows and in zip-slip payloads), no NUL or invalid
// UTF-8, and no empty, "." or ".." segment (which would escape the directory or make two keys
// collide on one file). The error quotes the key, so the user can find and remove it.
func ValidateKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("refusing object key %q: %s", key, why) }
	switch {
	case key == "":
		return bad("empty key")
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.ContainsRune(key, 0):
		return bad("contains a NUL byte")
	case strings.Contains(key, `\`):
		return bad("contains a backslash")
	case strings.HasPrefix(key, "/"):
		return bad("absolute path")
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return bad("empty path segment")
		case ".", "..":
			return bad(fmt.Sprintf("'%s' path segment", seg))
		}
	}
	return nil
}
