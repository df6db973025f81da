package git

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// userinfoPattern matches the userinfo of any URL embedded in text:
// "scheme://user:pass@" keeps "scheme://".
var userinfoPattern = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s@]+@`)

// RedactURL returns u without userinfo (credentials); text that does not
// parse as a URL is redacted with RedactString.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return RedactString(u)
	}
	p.User = nil
	return p.String()
}

// RedactString strips the userinfo of every URL in s.
func RedactString(s string) string {
	return userinfoPattern.ReplaceAllString(s, "$1")
}

// safeError carries a message scrubbed of credentials. It does not unwrap to
// the original error (whose text may hold them) but still answers errors.Is
// for sentinels such as context.DeadlineExceeded.
type safeError struct {
	msg   string
	cause error
}

func (e *safeError) Error() string { return e.msg }

func (e *safeError) Is(target error) bool { return errors.Is(e.cause, target) }

// scrub returns err with URL userinfo and every non-empty secret removed
// from its message. Secrets shorter than 4 bytes are not searched for, so
// a one-letter password does not mangle every message.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*safeError); ok {
		return err
	}
	msg := RedactString(err.Error())
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	return &safeError{msg: msg, cause: err}
}
