#!/usr/bin/env bash
# annotate-crds.sh DIR: marks every generated CRD with kustomize.toolkit.fluxcd.io/substitute: disabled,
# as upstream does, so that a Kustomization with postBuild substitution that applies our CRDs
# (flux bootstrap does) never rewrites `${...}` text inside field descriptions.
set -euo pipefail
for f in "$1"/*.yaml; do
  grep -q 'kustomize.toolkit.fluxcd.io/substitute' "$f" && continue
  sed -i 's#^\(    controller-gen.kubebuilder.io/version: .*\)$#\1\n    kustomize.toolkit.fluxcd.io/substitute: disabled#' "$f"
done
