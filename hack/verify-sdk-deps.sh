#!/usr/bin/env bash
# verify-sdk-deps.sh: the SDK (gotk.dev/pkg) must stand alone. Fails when the dependency
# closure of its packages, or of the example controller built on it, contains one of this
# repository's product modules (a controller, an API module, the CLI), or when pkg/go.mod
# requires one: a third party importing the SDK must not get our products.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() {
  local what=$1; shift
  local bad
  bad=$(go list -deps "$@" | grep -E '^gotk\.dev/' | grep -v -E '^gotk\.dev/(pkg|examples)(/|$)' || true)
  if [ -n "$bad" ]; then
    echo "error: $what depends on product packages:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    fail=1
  fi
}
check "the SDK (gotk.dev/pkg/...)" ./pkg/...
check "the example controller (gotk.dev/examples/...)" ./examples/...
if grep -E '^\s*gotk\.dev/' pkg/go.mod | grep -v -E 'gotk\.dev/internal/testing ' | grep -q .; then
  echo "error: pkg/go.mod requires product modules:" >&2
  grep -E '^\s*gotk\.dev/' pkg/go.mod | grep -v -E 'gotk\.dev/internal/testing ' | sed 's/^/  /' >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "verify: the SDK's dependency closure holds no product module"
exit "$fail"
