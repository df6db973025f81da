package gitserver

import "strings"

// IsGitRequest reports a smart-HTTP Git request (.../info/refs, .../git-upload-pack,
// .../git-receive-pack), for the Git host API servers that serve Git and their API on one
// port.
func IsGitRequest(p string) bool {
	return strings.HasSuffix(p, "/info/refs") || strings.HasSuffix(p, "/git-upload-pack") ||
		strings.HasSuffix(p, "/git-receive-pack")
}

// IsPush reports whether a smart-HTTP Git request is (part of) a push.
func IsPush(p, service string) bool {
	return strings.HasSuffix(p, "/git-receive-pack") || service == "git-receive-pack"
}
