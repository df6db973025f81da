#!/usr/bin/env bash
# go-download.sh CMD...: runs a Go command that downloads modules and turns a network failure into
# a message that names the proxy and what to check, instead of a wall of "dial tcp" lines.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# rc is taken from the command itself: after `if cmd; then ...; fi` $? is the if's status (0),
# which made every failed build look successful.
rc=0
"$@" 2> >(tee "$log" >&2) || rc=$?
[ "$rc" -eq 0 ] && exit 0
if grep -q -E 'dial tcp|no such host|i/o timeout|connection refused|TLS handshake|proxyconnect' "$log"; then
  proxy=$(go env GOPROXY)
  echo >&2
  echo "error: could not download Go modules from ${proxy}." >&2
  echo "       The build fetches its dependencies (Kubernetes, etcd, kwok, ...) from the Go module proxy." >&2
  echo "       Check network access to it, or set GOPROXY/GOFLAGS=-mod=mod to a reachable mirror, then re-run make." >&2
fi
exit $rc
