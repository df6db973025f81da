#!/usr/bin/env bash
# fuzz.sh: runs every fuzz target of the workspace for FUZZTIME each (default 20s), one at a
# time. `make test` runs their seed corpora (testdata/fuzz) as ordinary tests; this explores.
# A failure writes the failing input under the package's testdata/fuzz and stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}
targets=$(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' \
  --exclude-dir=.git --exclude-dir=bin --exclude-dir=tools . | sort)
n=0
for file in $targets; do
  dir=$(dirname "$file")
  for name in $(grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    n=$((n + 1))
    echo "fuzz: $dir $name ($fuzztime)"
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"
  done
done
echo "fuzz: $n targets ran for $fuzztime each without a failure"
