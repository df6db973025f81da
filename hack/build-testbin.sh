#!/usr/bin/env bash
# build-testbin.sh BINDIR: builds the local Kubernetes control plane used by tests and `make dev-up`
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl from the k8s.io/kubernetes
# version pinned in tools/testbin/go.mod, plus kwok and its stage definitions) into BINDIR.
# Everything comes from the Go module proxy; nothing is downloaded from release pages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${1:-$root/bin}
mkdir -p "$bindir"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
"$root/hack/check-go.sh"

cd "$root/tools/testbin"
k8s=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
kwok=$(awk '/^KWOK_VERSION/{print $3}' "$root/Makefile")
minor=$(echo "$k8s" | cut -d. -f2)
v=k8s.io/component-base/version
ldflags="-s -w -X $v.gitVersion=$k8s -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"

echo "testbin: building Kubernetes $k8s control plane into $bindir (first build takes ~6 minutes on 2 cores)"
"$root/hack/go-download.sh" go build -ldflags "$ldflags" -o "$bindir/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/etcd

echo "testbin: installing kwok $kwok"
GOBIN="$bindir" "$root/hack/go-download.sh" go install "sigs.k8s.io/kwok/cmd/kwok@$kwok"
stages=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok/kustomize/stage
rm -rf "$bindir/kwok-stages" && mkdir -p "$bindir/kwok-stages"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
         pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  cp "$stages/$f" "$bindir/kwok-stages/" && chmod u+w "$bindir/kwok-stages/$(basename "$f")"
done
echo "$k8s kwok-$kwok" > "$bindir/.testbin-version"
echo "testbin: done ($(cat "$bindir/.testbin-version"))"
