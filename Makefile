# gotk: a Flux-compatible GitOps toolkit. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

ROOT := $(abspath .)
BIN := $(ROOT)/bin
export GOTOOLCHAIN := local
# Tests and dev-up find the control plane here (controller-runtime envtest reads the same variable).
export KUBEBUILDER_ASSETS := $(BIN)

KWOK_VERSION = v0.8.0
REGISTRY_VERSION = v3.1.2
AZURITE_VERSION = 3.37.0
# Real test peers built from their wrapper modules tools/peers/<name> (pinned there).
PEERS := versitygw gitea tofu local-kms dex
SHARED ?= $(ROOT)/../shared

API_MODULES := source-controller/api kustomize-controller/api helm-controller/api \
	notification-controller/api image-reflector-controller/api image-automation-controller/api
CONTROLLERS := source-controller kustomize-controller helm-controller notification-controller \
	image-reflector-controller image-automation-controller
MODULES := pkg apis decrypt helmrender examples internal/testing $(API_MODULES) $(CONTROLLERS) cli e2e terraform-provider-flux
PKGS := $(addsuffix /...,$(addprefix ./,$(MODULES)))

# Build tags of every binary (workspace.BuildTags; its comment says why; a test keeps them equal).
GO_TAGS := kustomize_disable_go_plugin_support

CONTROLLER_GEN := $(BIN)/controller-gen
TESTBIN_STAMP := $(BIN)/.testbin-version

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: check-go
check-go:
	@hack/check-go.sh

$(CONTROLLER_GEN): tools/go.mod tools/go.sum | check-go
	cd tools && GOWORK=off GOFLAGS=-mod=mod $(ROOT)/hack/go-download.sh go build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Regenerate deepcopy code and CRDs (manifests/crds).
	rm -f manifests/crds/*.yaml
	for m in $(API_MODULES); do \
	  (cd $$m && $(CONTROLLER_GEN) object:headerFile=$(ROOT)/hack/boilerplate.go.txt \
	    crd:crdVersions=v1 paths=./... output:crd:artifacts:config=$(ROOT)/manifests/crds); \
	done
	hack/annotate-crds.sh manifests/crds
	rm -f internal/testing/testkind/crd/*.yaml examples/summary/crd/*.yaml
	cd internal/testing && $(CONTROLLER_GEN) object:headerFile=$(ROOT)/hack/boilerplate.go.txt \
	  crd:crdVersions=v1 paths=./testkind/... output:crd:artifacts:config=$(ROOT)/internal/testing/testkind/crd
	cd examples && $(CONTROLLER_GEN) object:headerFile=$(ROOT)/hack/boilerplate.go.txt \
	  crd:crdVersions=v1 paths=./summary/api/... output:crd:artifacts:config=$(ROOT)/examples/summary/crd
	$(MAKE) --no-print-directory generate-manifests

.PHONY: verify
verify: $(CONTROLLER_GEN) ## Fail on stale generated files, gofmt or go vet findings; check CRD wire compatibility.
	@hack/verify-generated.sh
	@hack/verify-sdk-deps.sh
	@out=$$(gofmt -l $(MODULES) tools) && if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)
	@if [ -x $(SHARED)/tools/crd-compat ]; then $(SHARED)/tools/crd-compat $(SHARED)/reference/crds $(ROOT)/manifests; \
	 else echo "verify: $(SHARED)/tools/crd-compat not found; skipping the CRD wire-compatibility check"; fi

.PHONY: registry
registry: check-go ## Install the CNCF distribution registry (OCI tests) into bin/ (once).
	@REGISTRY_VERSION=$(REGISTRY_VERSION) hack/build-registry.sh $(BIN)

.PHONY: peers
peers: check-go ## Build the test peers (versitygw, Gitea, OpenTofu, local-kms, Dex) into bin/ and install Azurite (once per pinned version).
	@for p in $(PEERS); do hack/build-peer.sh $$p $(BIN); done
	@AZURITE_VERSION=$(AZURITE_VERSION) hack/install-azurite.sh $(BIN)

.PHONY: test-deps
test-deps: ## Install the Debian packages tests use (git, openssh-server/-client, gnupg, patch, chromium), when missing.
	@hack/install-test-deps.sh

.PHONY: testbin
testbin: check-go registry peers test-deps ## Build the control plane (etcd, kube-*, kubectl, kwok) and the test peers into bin/ (once).
	@want="$$(cd tools/testbin && GOWORK=off go list -m -f '{{.Version}}' k8s.io/kubernetes) kwok-$(KWOK_VERSION)"; \
	if [ "$$(cat $(TESTBIN_STAMP) 2>/dev/null)" != "$$want" ]; then hack/build-testbin.sh $(BIN); \
	else echo "testbin: up to date ($$want)"; fi

.PHONY: testbin-upstream
testbin-upstream: check-go ## Build upstream Flux's source- and kustomize-controller (pinned, from the Go module proxy) into bin/upstream/ for `go run ./e2e/bench --upstream` (once per version; downloads a lot, so not part of testbin or test).
	hack/build-upstream.sh $(BIN)

.PHONY: build
build: check-go ## Build the controllers, the flux CLI and the Terraform provider into bin/.
	@for c in $(CONTROLLERS); do \
	  if [ -d $$c/cmd ]; then go build -tags $(GO_TAGS) -o $(BIN)/$$c ./$$c/cmd || exit 1; \
	  else echo "build: $$c has no cmd/ yet"; fi; \
	done
	go build -tags $(GO_TAGS) -ldflags "-X gotk.dev/cli/internal/app.Version=$(VERSION:v%=%)" -o $(BIN)/flux ./cli/cmd/flux
	go build -tags $(GO_TAGS) -ldflags "-X main.version=$(VERSION:v%=%)" -o $(BIN)/terraform-provider-flux ./terraform-provider-flux

.PHONY: ui-assets
ui-assets: ## Rebuild the flux ui front end (cli/internal/ui/web/dist, committed) from web/src with npm and esbuild.
	cd cli/internal/ui/web && npm ci --no-audit --no-fund && node build.mjs

.PHONY: test
test: verify testbin ## Everything CI runs: verify, unit, controller (envtest) and end-to-end smoke tests.
	go test -count=1 -timeout 25m $(PKGS)

.PHONY: e2e
e2e: testbin ## The end-to-end journeys and framework tests only, with the long variants enabled.
	GOTK_E2E_LONG=1 go test -count=1 -timeout 60m ./e2e/...

N ?= 100,1000
HELM_N ?= 1000
.PHONY: bench
bench: testbin ## The MTTP benchmark: Kustomization and HelmRelease workloads (N, with upstream Flux beside it when make testbin-upstream builds it, and N over 2 shards), webhook push-to-applied, HELM_N HelmCharts over an HTTP and an OCI Helm repository, a hub converging 2 spokes x 100 apps; results in e2e/results/.
	@if $(MAKE) --no-print-directory testbin-upstream; then go run ./e2e/bench --n $(N) --upstream; \
	else echo "bench: upstream Flux's controllers did not build (above): the main run goes without the upstream column"; go run ./e2e/bench --n $(N); fi
	go run ./e2e/bench --n $(N) --shards 2
	go run ./e2e/bench --mode apicost --n $(N)
	go run ./e2e/bench --mode hubspoke --spokes 2 --n 100
	go run ./e2e/bench --workload helmrelease --n $(N)
	go run ./e2e/bench --mode webhook --pushes 30
	go run ./e2e/bench --workload=helmcharts --n $(HELM_N)
	go test -run '^$$' -bench . -benchmem ./pkg/kustomize ./pkg/artifact ./pkg/substitute ./source-controller/internal/helm/indexcache
	go test -run '^$$' -bench . -benchtime 5x ./kustomize-controller/internal/controller ./helm-controller/internal/controller
	go test -run '^$$' -bench . -benchmem ./image-reflector-controller/internal/registry ./image-reflector-controller/internal/tagstore
	go test -run '^$$' -bench . -benchmem -benchtime 5x ./image-automation-controller/internal/update ./image-automation-controller/internal/setters
	go test -run '^$$' -bench . -benchtime 5x ./cli/internal/ui

FUZZTIME ?= 20s
.PHONY: fuzz
fuzz: testbin ## Run every fuzz target for FUZZTIME each (default 20s); make test runs their seed corpora.
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

.PHONY: dev-up
dev-up: testbin build ## The GitOps demo: local cluster, Git server with an example repository, controllers, flux bootstrap.
	go build -tags $(GO_TAGS) -o $(BIN)/devcluster ./e2e/cmd/devcluster
	$(BIN)/devcluster up --dir $(ROOT)/.dev --bin $(BIN) --example $(ROOT)/e2e/journeys/testdata/platform

.PHONY: dev-down
dev-down: ## Stop everything dev-up started and remove its state (safe to run twice).
	@if [ -d .dev ]; then go run ./e2e/cmd/devcluster down --dir $(ROOT)/.dev; else echo "dev-down: nothing running"; fi

.PHONY: clean
clean: ## Remove build output (keeps the control plane and test peer binaries).
	find $(BIN) -maxdepth 1 -type f ! -name 'kube*' ! -name etcd ! -name kwok ! -name registry ! -name '.testbin-version' \
	  $(foreach p,$(PEERS),! -name $(p) ! -name '.$(p)-version') ! -name '.azurite-version' -delete 2>/dev/null || true

# images
VERSION ?= v0.0.0-dev
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGES_DIR := $(BIN)/images

.PHONY: generate-manifests
generate-manifests: ## Render manifests/ into the install bundle the flux CLI embeds (run after the CRDs).
	go run ./cli/pkg/manifests/gen -manifests manifests -out cli/pkg/manifests/install.yaml

.PHONY: images
images: check-go ## Build one OCI image per controller into bin/images/<name>/, without Docker (VERSION=v1.2.3).
	go run ./e2e/cmd/images build --out $(IMAGES_DIR) --version $(VERSION) --revision $(REVISION)

.PHONY: images-push
images-push: images ## Push the images to REGISTRY/<controller>:VERSION (make images-push REGISTRY=ghcr.io/you).
	@if [ -z "$(REGISTRY)" ]; then echo "images-push: set REGISTRY, e.g. make images-push REGISTRY=ghcr.io/you"; exit 1; fi
	go run ./e2e/cmd/images push --out $(IMAGES_DIR) --registry $(REGISTRY)
