//go:build tools

// Package tools pins the generators that `make generate` runs with `go run`.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
