package app

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/version"
)

// minKubernetesVersion is the oldest Kubernetes this toolkit supports: the client libraries
// (k8s.io/* v0.37) are tested against the three minor releases before theirs, and
// Kubernetes 1.33 is the oldest release still getting upstream patches.
const minKubernetesVersion = ">=1.33.0-0"

// errCheckFailed ends a check that printed ✗ lines; Main prints it and exits 1.
var errCheckFailed = errors.New("check failed")

func newCheckCommand(c *Command) *cobra.Command {
	var pre bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check requirements and installation",
		Long: `The check command will perform a series of checks to validate that
the local environment is configured correctly and if the installed components are healthy.`,
		Example: `  # Run pre-installation checks
  flux check --pre

  # Run installation checks
  flux check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kube, info, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			log := c.Log()
			log.Actionf("checking prerequisites")
			ok := checkKubernetesVersion(log, info)
			if pre {
				if !ok {
					return &ExitError{Code: 1, Err: errors.New("prerequisites checks failed")}
				}
				log.Successf("prerequisites checks passed")
				return nil
			}
			ok = c.checkInstallation(cmd.Context(), kube) && ok
			if !ok {
				return &ExitError{Code: 1, Err: errCheckFailed}
			}
			log.Successf("all checks passed")
			return nil
		},
	}
	cmd.Flags().BoolVar(&pre, "pre", false, "only run pre-installation checks")
	return cmd
}

// checkKubernetesVersion prints "✔ Kubernetes 1.37.1 >=1.33.0-0" or a ✗ line.
func checkKubernetesVersion(log *Logger, info *version.Info) bool {
	ok, v, err := kubernetesVersionOK(info.GitVersion)
	switch {
	case err != nil:
		log.Failuref("cannot parse the Kubernetes version %q: %v", info.GitVersion, err)
	case !ok:
		log.Failuref("Kubernetes %s <%s (unsupported)", v, strings.TrimPrefix(minKubernetesVersion, ">="))
	default:
		log.Successf("Kubernetes %s %s", v, minKubernetesVersion)
	}
	return ok && err == nil
}

// checkInstallation prints the cluster's Flux version, its controllers and CRDs; it reports
// false when anything is missing or unhealthy (each problem printed with ✗).
func (c *Command) checkInstallation(ctx context.Context, kube *Kube) bool {
	log := c.Log()
	ns := c.Global.Namespace
	log.Actionf("checking version in cluster")
	inst, err := readInstallation(ctx, kube, ns)
	if err != nil {
		log.Failuref("%s", err)
		return false
	}
	if inst.version == "" {
		log.Failuref("no Flux installation found in namespace %s (no Deployment labelled app.kubernetes.io/part-of=flux): run flux install", ns)
		return false
	}
	log.Successf("distribution: flux-%s", inst.version)
	log.Successf("bootstrapped: %t", inst.bootstrapped)
	ok := c.checkControllers(ctx, kube, inst)
	return c.checkCRDs(ctx, kube, inst) && ok
}
