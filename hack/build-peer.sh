#!/usr/bin/env bash
# build-peer.sh PEER BINDIR: builds one real test peer from its wrapper module tools/peers/PEER
# (own go.mod, outside go.work) into BINDIR/PEER:
#   versitygw  Versity S3 gateway (Bucket tests)
#   gitea      Gitea Git host, with cgo SQLite (bootstrap and notification tests)
#   tofu       OpenTofu CLI
#   local-kms  AWS KMS emulator on 127.0.0.1 (SOPS AWS KMS tests)
#   dex        Dex OpenID Connect provider (flux ui OIDC sign-in tests)
# Everything comes from the Go module proxy. The peer is rebuilt only when the binary is missing or
# its wrapper go.mod/go.sum changed (a new pinned version, replace or godebug line): the stamp file
# BINDIR/.PEER-version records the pinned version and a digest of those two files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${1:?usage: build-peer.sh PEER [BINDIR]}
bindir=${2:-$root/bin}
moddir=$root/tools/peers/$peer
[ -f "$moddir/go.mod" ] || { echo "error: no wrapper module $moddir/go.mod for peer '$peer'" >&2; exit 1; }
mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
"$root/hack/check-go.sh"
cd "$moddir"

# The one `tool` line names the main package; its module carries the pinned version.
pkg=$(go mod edit -json | sed -n '/"Tool"/,/]/s/.*"Path": "\([^"]*\)".*/\1/p' | head -1)
[ -n "$pkg" ] || { echo "error: $moddir/go.mod has no tool directive" >&2; exit 1; }
read -r mod version < <(go list -f '{{.Module.Path}} {{.Module.Version}}' "$pkg")
if [ -z "$version" ]; then
  # The tool is the wrapper's own main (local-kms: to listen on 127.0.0.1 only): the pinned
  # version is that of the wrapper's one direct requirement.
  read -r mod version < <(go list -m -f '{{if not (or .Main .Indirect)}}{{.Path}} {{.Version}}{{end}}' all | sed '/^$/d' | head -1)
fi
want="$version $(cat go.mod go.sum | sha256sum | cut -c1-12)"
stamp=$bindir/.$peer-version
if [ -x "$bindir/$peer" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$peer: up to date ($version)"
  exit 0
fi

flags=()
case $peer in
  gitea)
    # SQLite is the database the tests give Gitea; it needs cgo. No `bindata` tag: the web assets
    # are not in the module, tests use the API and Git over HTTP.
    export CGO_ENABLED=1
    flags=(-tags 'sqlite sqlite_unlock_notify' -ldflags "-s -w -X main.Version=${version#v}") ;;
  tofu)
    # version.dev=no makes `tofu version` print a release version instead of "-dev".
    flags=(-ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no") ;;
  versitygw)
    flags=(-ldflags "-s -w -X main.Version=$version") ;;
  *)
    flags=(-ldflags "-s -w") ;;
esac

echo "$peer: building $mod $version into $bindir (a cold build takes minutes; once per version)"
start=$(date +%s)
rm -f "$stamp"
"$root/hack/go-download.sh" go build "${flags[@]}" -o "$bindir/$peer" "$pkg"
echo "$want" > "$stamp"
echo "$peer: done ($version, $(( $(date +%s) - start ))s)"
