package app

import "github.com/spf13/cobra"

func bootstrapCommands(c *Command) []*cobra.Command { return nil }
