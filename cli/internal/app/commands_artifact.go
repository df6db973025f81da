package app

import "github.com/spf13/cobra"

func artifactCommands(c *Command) []*cobra.Command { return nil }
