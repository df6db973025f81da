package app

import "github.com/spf13/cobra"

func installCommands(c *Command) []*cobra.Command { return nil }
