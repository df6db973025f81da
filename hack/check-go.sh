#!/usr/bin/env bash
# Fails with a message that says what to do when the Go toolchain is missing or too old.
set -euo pipefail
want=$(awk '/^go /{print $2; exit}' "$(dirname "$0")/../go.work")
if ! command -v go >/dev/null 2>&1; then
  echo "error: no 'go' command on PATH. Install Go ${want} or newer (https://go.dev/dl/) and put its bin/ on PATH." >&2
  exit 1
fi
have=$(GOTOOLCHAIN=local go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" != "$want" ]; then
  echo "error: Go ${have} is too old; this workspace needs Go ${want} or newer (go.work). Install a newer Go from https://go.dev/dl/." >&2
  exit 1
fi
