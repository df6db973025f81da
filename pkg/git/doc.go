// Package git is the Git client of the source and image-automation
// controllers, built on go-git: credentials from Flux Secrets
// (NewAuthOptions), cheap remote resolution for the "nothing changed" path
// (ResolveRef: one ref listing, no clone), shallow and sparse clones with
// Flux revision strings (Clone, Commit.String), submodules, OpenPGP and SSH
// signature verification, fetch of further refs into a clone, and push with push options
// and compare-and-swap conditions (PushOptions.RequireRemoteRefs; a push refused because a
// branch moved wraps ErrPushRejected).
//
// SSH host keys are always verified against the Secret's known_hosts, and no
// error or String leaks a password, token or key: URLs lose their userinfo
// and secret values are scrubbed from messages.
package git
