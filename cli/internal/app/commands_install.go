package app

import "github.com/spf13/cobra"

// installCommands are the lifecycle commands: install (install_cmd.go), uninstall
// (uninstall_cmd.go) and check (check_cmd.go).
func installCommands(c *Command) []*cobra.Command {
	return []*cobra.Command{newInstallCommand(c), newUninstallCommand(c), newCheckCommand(c)}
}
