package app

import "github.com/spf13/cobra"

func operateCommands(c *Command) []*cobra.Command { return nil }
