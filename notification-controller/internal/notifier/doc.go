// Package notifier delivers one Flux event to one external system (Slack, Teams, a Git host's
// commit status API, NATS, ...). Every provider type implements Notifier; New builds the right
// one from Options, and FromProvider builds Options from a Provider object and the data of the
// Secrets it references. The package has no Kubernetes client: the caller reads the Secrets.
//
// Every notifier honours the Provider's timeout, proxy and custom CA (where the transport
// allows), and never returns an error carrying a token, a password or a secret URL: HTTP
// failures name only the scheme and host of the endpoint, and every error is scrubbed of the
// secret values the notifier was built with. WithRetry wraps a Notifier with bounded retries
// for transient failures.
package notifier
