package app

import "github.com/spf13/cobra"

// buildCommands are the commands that work on local manifests the way the controllers would:
// build (build_cmd.go), diff (diff_cmd.go) and envsubst (envsubst_cmd.go).
func buildCommands(c *Command) []*cobra.Command {
	return []*cobra.Command{newBuildCommand(c), newDiffCommand(c), newEnvsubstCommand(c)}
}
