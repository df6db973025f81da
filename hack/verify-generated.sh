#!/usr/bin/env bash
# verify-generated.sh: regenerates everything `make generate` produces and fails when that
# changed any file, i.e. when committed generated files are stale against their sources.
set -euo pipefail
cd "$(dirname "$0")/.."
sums() {
  find manifests internal/testing/testkind/crd examples/summary/crd -type f -name "*.yaml" | sort | xargs -r sha256sum
  find . -name 'zz_generated.*.go' -not -path './bin/*' | sort | xargs -r sha256sum
  find cli/pkg/manifests -type f -name '*.yaml' | sort | xargs -r sha256sum
}
before=$(sums)
make --no-print-directory generate >/dev/null
after=$(sums)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
  echo "error: generated files were stale (listed above) and have been regenerated; review and commit them" >&2
  exit 1
fi
echo "verify: generated files are up to date"
