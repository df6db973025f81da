#!/usr/bin/env bash
# build-registry.sh BINDIR: installs the CNCF distribution registry (the reference OCI registry,
# `registry serve CONFIG`) into BINDIR for the OCI tests in pkg/oci and source-controller.
# It comes from the Go module proxy (no release downloads, no Docker) and is rebuilt only when
# missing or when its version differs from REGISTRY_VERSION.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${1:-$root/bin}
version=${REGISTRY_VERSION:-v3.1.2}
mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
export GOTOOLCHAIN=local
"$root/hack/check-go.sh"

# `registry --version` prints e.g. "registry github.com/distribution/distribution/v3 v3.1.2".
if [ -x "$bindir/registry" ] && "$bindir/registry" --version 2>/dev/null | grep -qw -- "$version"; then
  echo "registry: up to date ($version)"
  exit 0
fi

echo "registry: installing distribution $version into $bindir (takes about a minute)"
cd "$root"
GOWORK=off GOFLAGS=-mod=mod GOBIN="$bindir" "$root/hack/go-download.sh" \
  go install "github.com/distribution/distribution/v3/cmd/registry@$version"
echo "registry: done ($("$bindir/registry" --version))"
