#!/usr/bin/env bash
# tidy.sh: `go mod tidy` in every workspace module. Each module resolves its gotk.dev siblings
# through replace directives, so tidy works outside the workspace (GOWORK=off).
set -euo pipefail
cd "$(dirname "$0")/.."
for m in $(go list -m -f '{{.Dir}}' | sed "s|^$PWD/||"); do
  (cd "$m" && GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod tidy) || { echo "tidy failed in $m" >&2; exit 1; }
done
go work sync
