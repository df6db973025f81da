//go:build deps

package pkg

// Pins libraries before the packages using them land (removed once they do).
import (
	_ "filippo.io/age"
	_ "github.com/getsops/sops/v3/decrypt"
	_ "github.com/google/cel-go/cel"
	_ "github.com/hiddeco/sshsig"
	_ "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	_ "sigs.k8s.io/kustomize/api/krusty"
)
