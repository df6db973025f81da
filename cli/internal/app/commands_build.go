package app

import "github.com/spf13/cobra"

func buildCommands(c *Command) []*cobra.Command { return nil }
