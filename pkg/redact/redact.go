// Package redact removes credentials from text before it reaches a status condition, an event
// or a log: the userinfo of URLs (https://user:token@host/...), the signatures of signed URLs
// (S3, GCS and Azure SAS query parameters), and secret values a caller names.
//
// The reconcile engine and the event recorder pass every message through String, so a step
// that wraps an error holding a URL cannot leak what the URL carries; code that knows the
// secrets it used (a token, a password) scrubs them with Error as well.
package redact

import (
	"errors"
	"regexp"
	"strings"
)

// Mask replaces what is redacted.
const Mask = "***"

var (
	// userinfo matches the userinfo of a URL embedded in text: "scheme://user:pass@"
	// keeps "scheme://".
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*:/{1,3}|://)[^/?#\s"']+@`)
	// signedParam matches the query parameters that authorise a signed URL.
	signedParam = regexp.MustCompile(`(?i)([?&](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|access_token|token|code|password|secret)=)[^&#\s"']*`)
)

// String removes URL credentials from s.
func String(s string) string {
	if !strings.Contains(s, ":/") && !strings.ContainsAny(s, "?&") {
		return s
	}
	s = userinfo.ReplaceAllString(s, "$1")
	return signedParam.ReplaceAllString(s, "${1}"+Mask)
}

// URL returns u without userinfo and signature parameters. It takes what users write, which
// is not always a well-formed URL: references without a scheme, as registries are often named
// ("user:pw@ghcr.io/org/app" is "ghcr.io/org/app"), and credentials holding spaces or bytes
// a URL parser refuses.
func URL(u string) string {
	prefix, rest := splitScheme(u)
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		rest = rest[at+1:]
	}
	return String(signedParam.ReplaceAllString(prefix+rest, "${1}"+Mask))
}

// splitScheme splits "scheme:" and the slashes after it off u; without them, the prefix is
// empty (and "oci:user:pw@host" keeps no scheme: it is a reference whose host part ends at
// the last '@').
func splitScheme(u string) (prefix, rest string) {
	i := strings.Index(u, ":/")
	if i <= 0 || !validScheme(u[:i]) {
		if strings.HasPrefix(u, "://") {
			return "://", u[3:]
		}
		return "", u
	}
	j := i + 1
	for j < len(u) && u[j] == '/' {
		j++
	}
	return u[:j], u[j:]
}

func validScheme(s string) bool {
	for k, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || k > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// safeError carries a message scrubbed of credentials. It does not unwrap to the original
// error (whose text may hold them) but still answers errors.Is for sentinels such as
// context.DeadlineExceeded.
type safeError struct {
	msg   string
	cause error
}

func (e *safeError) Error() string { return e.msg }

func (e *safeError) Is(target error) bool { return errors.Is(e.cause, target) }

// As finds typed errors in the chain (an *ObjectTooLargeError, an *url.Error): callers
// branching on a kind of failure still can. They must not print what they find unredacted.
func (e *safeError) As(target any) bool { return errors.As(e.cause, target) }

// Error returns err with URL credentials and the given secret values removed from its
// message. Secrets shorter than 4 characters are left alone: replacing them would mangle
// the message without protecting anything.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := String(err.Error())
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, Mask)
		}
	}
	if se, ok := err.(*safeError); ok && se.msg == msg {
		return err
	}
	return &safeError{msg: msg, cause: err}
}
