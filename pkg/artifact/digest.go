package artifact

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Supported digest algorithms, named as in "<algorithm>:<hex>" digests.
const (
	SHA256 = "sha256"
	SHA384 = "sha384"
	SHA512 = "sha512"
)

// newHash returns a hash for a supported algorithm.
func newHash(algo string) (hash.Hash, error) {
	switch algo {
	case SHA256:
		return sha256.New(), nil
	case SHA384:
		return sha512.New384(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q (want %s, %s or %s)", algo, SHA256, SHA384, SHA512)
}

// hexLen is the length of the hex encoding of each algorithm's sum. The lengths differ, so
// a file named by its hex sum also names its algorithm.
func hexLen(algo string) int {
	switch algo {
	case SHA256:
		return 64
	case SHA384:
		return 96
	case SHA512:
		return 128
	}
	return 0
}

// algoForHexLen is the inverse of hexLen.
func algoForHexLen(n int) string {
	for _, a := range []string{SHA256, SHA384, SHA512} {
		if hexLen(a) == n {
			return a
		}
	}
	return ""
}

// ParseDigest splits "<algorithm>:<hex>" and checks both parts.
func ParseDigest(d string) (algo, hexSum string, err error) {
	algo, hexSum, ok := strings.Cut(d, ":")
	if !ok {
		return "", "", fmt.Errorf("digest %q is not of the form <algorithm>:<hex>", d)
	}
	if _, err := newHash(algo); err != nil {
		return "", "", fmt.Errorf("digest %q: %w", d, err)
	}
	if !isLowerHex(hexSum) || len(hexSum) != hexLen(algo) {
		return "", "", fmt.Errorf("digest %q: want %d lowercase hex digits", d, hexLen(algo))
	}
	return algo, hexSum, nil
}

func isLowerHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// nameDigest reads the digest a storage file name carries: "<hex><ext>" where the hex
// length tells the algorithm. ok is false for names that are not content addressed.
func nameDigest(name string) (algo, hexSum string, ok bool) {
	i := strings.IndexByte(name, '.')
	if i < 0 {
		i = len(name)
	}
	hexSum = name[:i]
	algo = algoForHexLen(len(hexSum))
	if algo == "" || !isLowerHex(hexSum) || !validExt(name[i:]) {
		return "", "", false
	}
	return algo, hexSum, true
}

// validExt accepts "" or extensions like ".tar.gz", ".tgz", ".yaml": a dot followed by
// lowercase letters, digits and further dots, never "..".
func validExt(ext string) bool {
	if ext == "" {
		return true
	}
	if ext[0] != '.' || len(ext) > 32 || strings.Contains(ext, "..") || strings.HasSuffix(ext, ".") {
		return false
	}
	for i := 1; i < len(ext); i++ {
		c := ext[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.') {
			return false
		}
	}
	return true
}

func hexOf(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
