package notifier

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DeliveryError is a failed delivery. Retryable tells WithRetry whether trying again may help
// (network failures and 5xx answers), as opposed to a rejected request (4xx), which will fail
// the same way every time.
type DeliveryError struct {
	// StatusCode is the HTTP status of the answer, 0 when there was none.
	StatusCode int
	Retryable  bool
	msg        string
}

func (e *DeliveryError) Error() string { return e.msg }

// IsRetryable reports whether err is worth retrying: a DeliveryError says so itself; other
// errors (SDK failures without an HTTP status) are treated as transient.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Retryable
	}
	var pe *permanentError
	return !errors.As(err, &pe)
}

// permanentError marks configuration and payload errors that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(format string, args ...any) error {
	return &permanentError{err: fmt.Errorf(format, args...)}
}

// redactURL keeps the scheme and host of a URL: webhook URLs carry their secret in the path
// (Slack, Discord, Teams), the query (Teams workflows, signed URLs) or the userinfo.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<redacted URL>"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		out += "/***"
	}
	return out
}

// redactor removes known secret values from error messages, for errors built by SDKs that
// quote URLs or credentials.
type redactor struct{ secrets []string }

func newRedactor(o *Options) *redactor {
	r := &redactor{}
	add := func(s string) {
		if len(s) >= 4 { // shorter strings would redact ordinary words
			r.secrets = append(r.secrets, s)
		}
	}
	add(o.Token)
	add(o.Password)
	for _, raw := range []string{o.Address, o.ProxyURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		add(raw)
		if u.User != nil {
			add(u.User.String())
			add(u.User.Username())
			if p, ok := u.User.Password(); ok {
				add(p)
			}
		}
		if u.Path != "" && u.Path != "/" {
			add(u.Path)
			add(u.EscapedPath())
		}
		add(u.RawQuery)
	}
	for _, v := range o.Headers {
		add(v)
	}
	// Longest first, so a secret containing another is replaced whole.
	for i := 1; i < len(r.secrets); i++ {
		for j := i; j > 0 && len(r.secrets[j]) > len(r.secrets[j-1]); j-- {
			r.secrets[j], r.secrets[j-1] = r.secrets[j-1], r.secrets[j]
		}
	}
	return r
}

func (r *redactor) scrub(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}

// wrap returns err with every known secret removed from its message, keeping whether it is
// retryable.
func (r *redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := r.scrub(err.Error())
	var de *DeliveryError
	if errors.As(err, &de) {
		return &DeliveryError{StatusCode: de.StatusCode, Retryable: de.Retryable, msg: msg}
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return &permanentError{err: errors.New(msg)}
	}
	return errors.New(msg)
}
