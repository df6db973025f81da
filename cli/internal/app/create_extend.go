package app

import (
	"github.com/spf13/cobra"
)

// extendCreate adds flux create secret proxy and flux create secret githubapp.
func extendCreate(root *cobra.Command, c *Command) {
	create := parentCommand(root, "create", "Create or update sources and resources", "")
	secret := parentCommand(create, "secret", "Create or update Kubernetes secrets", "")
	secret.AddCommand(withCreateFlags(func(cf *createFlags) *cobra.Command { return newCreateSecretProxyCommand(c, cf) }))
	secret.AddCommand(withCreateFlags(func(cf *createFlags) *cobra.Command { return newCreateSecretGitHubAppCommand(c, cf) }))
}

// withCreateFlags builds a create subcommand whose createFlags are read from the flags it
// inherits from flux create (--interval, --export, --label) when it runs.
func withCreateFlags(build func(cf *createFlags) *cobra.Command) *cobra.Command {
	cf := &createFlags{}
	cmd := build(cf)
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		fs := cmd.Flags()
		var err error
		if cf.interval, err = fs.GetDuration("interval"); err != nil {
			return err
		}
		if cf.export, err = fs.GetBool("export"); err != nil {
			return err
		}
		if cf.labels, err = fs.GetStringSlice("label"); err != nil {
			return err
		}
		return run(cmd, args)
	}
	return cmd
}
