package bucket

import (
	"errors"
	"fmt"
	"strings"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// Error is every error this package returns from Open, Index and Download: it names the
// bucket and endpoint, carries the Bucket condition reason a reconciler reports, and says
// whether retrying can help. Its message never contains credentials.
type Error struct {
	// Reason is the condition reason: sourcev1.AuthenticationFailedReason (credentials or
	// their Secret), sourcev1.BucketOperationFailedReason (the service or an object),
	// sourcev1.InvalidSTSConfigurationReason or sourcev1.InvalidProviderConfigurationReason
	// (the spec).
	Reason string
	// Stalled is true when only a change of the Bucket spec can fix the error; the reconciler
	// should not retry until the generation changes.
	Stalled bool
	// Err is the cause, already scrubbed of secret values.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrBucketNotFound is wrapped by the Error Index returns when the bucket does not exist
// ("bucket 'name' at endpoint does not exist").
var ErrBucketNotFound = errors.New("does not exist")

// ReasonOf returns the condition reason of err (an *Error somewhere in its chain), or
// sourcev1.BucketOperationFailedReason.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Reason != "" {
		return e.Reason
	}
	return sourcev1.BucketOperationFailedReason
}

// IsStalled reports whether err needs a spec change before a retry can succeed.
func IsStalled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Stalled
}

// where names a bucket for messages: "bucket 'name' at endpoint".
func where(bucket, endpoint string) string {
	if endpoint == "" {
		return fmt.Sprintf("bucket '%s'", bucket)
	}
	return fmt.Sprintf("bucket '%s' at %s", bucket, redactEndpoint(endpoint))
}

// redactEndpoint drops userinfo ("user:password@") from an endpoint, which the providers
// refuse anyway, so that no message repeats it.
func redactEndpoint(endpoint string) string {
	rest, scheme := endpoint, ""
	if i := strings.Index(endpoint, "://"); i >= 0 {
		scheme, rest = endpoint[:i+3], endpoint[i+3:]
	}
	host, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		return scheme + "***@" + host[i+1:] + path
	}
	return endpoint
}

// scrubbed is an error whose message had secret values replaced; it still unwraps to the
// original so errors.Is works for sentinel errors.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// scrub replaces every secret value found in err's message with "***".
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) < 4 {
			continue // too short to be told apart from ordinary words
		}
		if strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "***")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}
