package app

import "github.com/spf13/cobra"

// commandGroups lists the constructors of the top-level commands, one per area, each in its
// own file. It is a fixed list, read only: each NewRootCommand call builds fresh commands.
var commandGroups = []func(*Command) []*cobra.Command{
	coreCommands,      // version, completion, plugin
	installCommands,   // install, uninstall, check (commands_install.go)
	operateCommands,   // create, get, reconcile, suspend, resume, delete, export (commands_operate.go)
	debugCommands,     // events, logs, tree, trace (commands_debug.go)
	buildCommands,     // build, diff, envsubst (commands_build.go)
	artifactCommands,  // push, pull, tag, list (commands_artifact.go)
	bootstrapCommands, // bootstrap (commands_bootstrap.go)
}

func coreCommands(c *Command) []*cobra.Command {
	return []*cobra.Command{newVersionCommand(c), newCompletionCommand(c), newPluginCommand(c)}
}
