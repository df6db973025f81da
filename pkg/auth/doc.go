// Package auth gets short-lived credentials for the controllers: GitHub App installation
// tokens (GitRepository spec.provider: github) today, and the token cache every provider
// shares.
//
// Tokens are secrets. Nothing here formats a token into an error, a log line or a String
// method; errors name the identity (app, installation, service account) and the endpoint
// that refused, never the credential that was sent or received.
//
// The cache is bounded in entries (--token-cache-max-size) and in how long an entry may be
// kept (--token-cache-max-duration); a token is also dropped a little before it expires, so
// a cached token is never handed out with less than a minute to live.
package auth
