#!/usr/bin/env bash
# install-azurite.sh BINDIR: installs Azurite, Microsoft's Azure Storage emulator, from the npm
# registry into BINDIR/azurite (node_modules) for the Bucket tests of the azure provider, and
# links BINDIR/azurite-blob to its blob service. Reinstalled only when missing or when its
# version differs from AZURITE_VERSION (the stamp file BINDIR/.azurite-version). Needs Node.js
# and npm (on the development machines; Debian: apt-get install nodejs npm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${1:-$root/bin}
version=${AZURITE_VERSION:?AZURITE_VERSION is not set}
mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
stamp=$bindir/.azurite-version

if [ -x "$bindir/azurite-blob" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "azurite: up to date ($version)"
  exit 0
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: azurite needs $tool: install Node.js and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done

echo "azurite: installing azurite@$version with npm into $bindir/azurite (takes a minute or two)"
rm -f "$stamp"
rm -rf "$bindir/azurite"
mkdir -p "$bindir/azurite"
# --ignore-scripts: the blob service needs no install script; nothing runs at install time.
npm install --prefix "$bindir/azurite" --no-audit --no-fund --ignore-scripts --no-save --loglevel=error \
  "azurite@$version" >/dev/null
ln -sf "azurite/node_modules/.bin/azurite-blob" "$bindir/azurite-blob"
"$bindir/azurite-blob" --version >/dev/null
echo "$version" > "$stamp"
echo "azurite: done ($version, node $(node --version))"
