#!/usr/bin/env bash
# Builds upstream Flux's source-controller and kustomize-controller from the Go module proxy
# into BIN/upstream/<name>-<version>, once per version, as peers for `go run ./e2e/bench --upstream`.
# Nothing of upstream is copied into this repository: the module zips are laid out in a build
# directory under BIN/upstream/build and compiled there.
#
# `go install pkg@version` cannot build them: their go.mod has `replace .../api => ./api`, a
# nested module that the module zip leaves out. So both zips (the root and /api at the same
# version) are downloaded and placed as the replace expects.
#
# Pinned: the newest releases whose go.mod accepts this repository's Go (v1.10.x needs go 1.27).
# Built as upstream's images are (CGO_ENABLED=0 -trimpath, see their Dockerfile).
#
# One deviation, forced by the module proxy this project reaches: it refuses
# github.com/fluxcd/pkg/artifact v0.18.3 (source-controller v1.9.6's requirement) and serves
# v0.18.0, a patch release older. UPSTREAM_REPLACE lists such substitutions as
# <controller>:<module>=<version>; each becomes a `go mod edit -replace` in the build
# directory, and the benchmark results name the versions built.
set -euo pipefail

BIN=$(cd "${1:-bin}" && pwd)
UPSTREAM_VERSIONS=${UPSTREAM_VERSIONS:-"source-controller=v1.9.6 kustomize-controller=v1.9.6"}
UPSTREAM_REPLACE=${UPSTREAM_REPLACE:-"source-controller:github.com/fluxcd/pkg/artifact=v0.18.0"}

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

module_dir() { # module@version -> its extracted directory in the module cache
	local json dir
	json=$(cd "$BIN" && go mod download -json "$1") || true # its Error field says why
	# go mod download -json prints one field per line ("Dir": "...", "Error": "..."); read
	# them with sed rather than needing jq on the machine.
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	if [ -z "$dir" ]; then
		echo "build-upstream: go mod download $1: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")" >&2
		return 1
	fi
	echo "$dir"
}

mkdir -p "$BIN/upstream"
for pair in $UPSTREAM_VERSIONS; do
	name=${pair%%=*} version=${pair#*=}
	out="$BIN/upstream/$name-$version"
	if [ -x "$out" ]; then
		echo "build-upstream: $name $version up to date"
		continue
	fi
	module="github.com/fluxcd/$name"
	root=$(module_dir "$module@$version")
	api=$(module_dir "$module/api@$version")

	work="$BIN/upstream/build/$name-$version"
	rm -rf "$work"
	mkdir -p "$work"
	cp -R "$root/." "$work/"
	chmod -R u+w "$work"
	rm -rf "$work/api"
	cp -R "$api/." "$work/api/"
	chmod -R u+w "$work/api"

	for r in $UPSTREAM_REPLACE; do
		[ "${r%%:*}" = "$name" ] || continue
		dep=${r#*:}
		(cd "$work" && go mod edit -replace "${dep%%=*}=${dep%%=*}@${dep#*=}")
		echo "build-upstream: $name: ${dep%%=*} replaced by ${dep#*=} (the module proxy refuses the required version)"
	done

	echo "build-upstream: building $name $version"
	(cd "$work" && go build -trimpath -o "$out.tmp" .)
	mv "$out.tmp" "$out"
	rm -rf "$work"
done
rmdir "$BIN/upstream/build" 2>/dev/null || true
