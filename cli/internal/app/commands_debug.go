package app

import "github.com/spf13/cobra"

func debugCommands(c *Command) []*cobra.Command { return nil }
