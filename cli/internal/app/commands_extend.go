package app

import "github.com/spf13/cobra"

// commandExtensions add subcommands under parent commands other areas own (flux debug holds
// helmrelease and kustomization, written apart), after every group has been built.
var commandExtensions = []func(root *cobra.Command, c *Command){
	extendDebug,         // debug kustomization (debug_kustomization.go)
	extendCreate,        // create secret proxy (create_extend.go)
	extendBuildDiff,     // build artifact, diff artifact (artifact_build.go, artifact_diff.go)
	extendSourceWatcher, // get/export source external, get/export/tree artifact generator (source_watcher_cmds.go)
	func(root *cobra.Command, c *Command) {
		root.AddCommand(newStatsCommand(c), newMigrateCommand(c), newUICommand(c)) // stats_cmd.go, migrate_cmd.go, ui_cmd.go
	},
}

// parentCommand returns root's subcommand use, creating it with short and long when no
// group built it.
func parentCommand(root *cobra.Command, use, short, long string) *cobra.Command {
	for _, sub := range root.Commands() {
		if sub.Name() == use {
			return sub
		}
	}
	p := &cobra.Command{Use: use, Short: short, Long: long}
	root.AddCommand(p)
	return p
}
