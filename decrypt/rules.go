package decrypt

import (
	"regexp"
	"strings"
)

// cryptRules decides which values of a document are encrypted, from the
// metadata's encrypted_suffix, unencrypted_suffix, encrypted_regex,
// unencrypted_regex, encrypted_comment_regex and unencrypted_comment_regex
// (at most one is set; without any, unencrypted_suffix is "_unencrypted").
// Decryption must decide exactly as encryption did: a value taken for
// plaintext is hashed as its ciphertext and fails the MAC, a plaintext value
// taken for ciphertext does not decrypt.
type cryptRules struct {
	unencryptedSuffix, encryptedSuffix string
	// A regex is nil when unset. One that does not compile matches
	// nothing, as in SOPS, which ignores the compile error on every match.
	unencryptedRegex, encryptedRegex               *regexp.Regexp
	unencryptedCommentRegex, encryptedCommentRegex *regexp.Regexp
}

func newCryptRules(md *metadata) cryptRules {
	return cryptRules{
		unencryptedSuffix:       md.unencryptedSuffix,
		encryptedSuffix:         md.encryptedSuffix,
		unencryptedRegex:        compileRule(md.unencryptedRegex),
		encryptedRegex:          compileRule(md.encryptedRegex),
		unencryptedCommentRegex: compileRule(md.unencryptedCommentRegex),
		encryptedCommentRegex:   compileRule(md.encryptedCommentRegex),
	}
}

// neverMatches stands for a rule regex that does not compile.
var neverMatches = regexp.MustCompile(`[^\x00-\x{10FFFF}]`)

func compileRule(expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return neverMatches
	}
	return re
}

// encrypted says whether the value at path is encrypted. path holds the
// keys from the document root (list indices are not part of it); comments
// holds the comment lines above the value at each nesting level; isComment
// is set when the value is itself a comment line.
//
// Key rules look at every key of the path: a value is encrypted when any
// key matches encrypted_suffix or encrypted_regex, and not when any key
// matches unencrypted_suffix or unencrypted_regex. Comment rules look at
// the comments above the value (and its parents); encrypted_comment_regex
// does not count the comment line being decided itself, which stays
// readable.
func (r *cryptRules) encrypted(path []string, comments [][]string, isComment bool) bool {
	enc := true
	if r.unencryptedSuffix != "" && anyKey(path, func(k string) bool { return strings.HasSuffix(k, r.unencryptedSuffix) }) {
		enc = false
	}
	if r.encryptedSuffix != "" {
		enc = anyKey(path, func(k string) bool { return strings.HasSuffix(k, r.encryptedSuffix) })
	}
	if r.unencryptedRegex != nil && anyKey(path, r.unencryptedRegex.MatchString) {
		enc = false
	}
	if r.encryptedRegex != nil {
		enc = anyKey(path, r.encryptedRegex.MatchString)
	}
	if r.unencryptedCommentRegex != nil {
		for _, level := range comments {
			if anyKey(level, r.unencryptedCommentRegex.MatchString) {
				enc = false
				break
			}
		}
	}
	if r.encryptedCommentRegex != nil {
		enc = false
		last := len(comments) - 1
	levels:
		for i, level := range comments {
			for j, c := range level {
				if isComment && i == last && j == len(level)-1 {
					continue
				}
				if r.encryptedCommentRegex.MatchString(c) {
					enc = true
					break levels
				}
			}
		}
	}
	return enc
}

func anyKey(keys []string, match func(string) bool) bool {
	for _, k := range keys {
		if match(k) {
			return true
		}
	}
	return false
}
