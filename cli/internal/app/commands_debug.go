package app

import "github.com/spf13/cobra"

// debugCommands are the commands that explain what Flux did: events (events_cmd.go), logs
// (logs_cmd.go), tree (tree_cmd.go), trace (trace_cmd.go) and debug (debug_cmd.go).
func debugCommands(c *Command) []*cobra.Command {
	return []*cobra.Command{newEventsCommand(c), newLogsCommand(c), newTreeCommand(c), newTraceCommand(c), newDebugCommand(c)}
}
