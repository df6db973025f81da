package app

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/pkg/substitute"
)

func newEnvsubstCommand(c *Command) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "envsubst",
		Short: "envsubst substitutes the values of environment variables",
		Long: `The envsubst command substitutes the values of environment variables
in the input with bash string replacement functions (${VAR}, ${VAR:=default}, ${VAR:offset:length}, ...),
as Flux does for spec.postBuild.substitute.`,
		Example: `  # Run env var substitutions on the kustomization build output
  export cluster_region=eu-central-1
  kustomize build . | flux envsubst

  # Run env var substitutions and error out if a variable is not set
  kustomize build . | flux envsubst --strict`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := io.ReadAll(c.In)
			if err != nil {
				return fmt.Errorf("reading the input: %w", err)
			}
			out, err := substitute.Expand(string(in), environ(), substitute.Options{Strict: strict})
			if err != nil {
				return err
			}
			_, err = io.WriteString(c.Out, out)
			return err
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "fail if the input contains a variable that is unset and has no default value")
	return cmd
}

// environ is the process environment as a map.
func environ() map[string]string {
	env := os.Environ()
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
