package app

import (
	"github.com/spf13/cobra"
)

// newCompletionCommand is flux completion with one subcommand per shell, as upstream.
func newCompletionCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion",
		Short: "Generates completion scripts for various shells",
		Long:  "The completion sub-command generates completion scripts for various shells",
		Args:  cobra.NoArgs,
	}
	shells := []struct {
		name, short, example string
		gen                  func(root *cobra.Command) error
	}{
		{"bash", "Generates bash completion scripts", `  # To load completion run
  . <(flux completion bash)

  # To configure your bash shell to load completions for each session add to your bashrc
  # ~/.bashrc or ~/.profile
  command -v flux >/dev/null && . <(flux completion bash)`,
			func(root *cobra.Command) error { return root.GenBashCompletionV2(c.Out, true) }},
		{"zsh", "Generates zsh completion scripts", `  # To load completion run
  . <(flux completion zsh) && compdef _flux flux

  # To configure your zsh shell to load completions for each session add to your zshrc
  # ~/.zshrc or ~/.profile
  command -v flux >/dev/null && . <(flux completion zsh) && compdef _flux flux`,
			func(root *cobra.Command) error { return root.GenZshCompletion(c.Out) }},
		{"fish", "Generates fish completion scripts", `  # To configure your fish shell to load completions for each session write this script to your completions dir:
  flux completion fish > ~/.config/fish/completions/flux.fish`,
			func(root *cobra.Command) error { return root.GenFishCompletion(c.Out, true) }},
		{"powershell", "Generates powershell completion scripts", `  # To load completion run
  . <(flux completion powershell)

  # To configure your powershell shell to load completions for each session add to your powershell profile
  flux completion powershell | Out-String | Invoke-Expression`,
			func(root *cobra.Command) error { return root.GenPowerShellCompletionWithDesc(c.Out) }},
	}
	for _, sh := range shells {
		cmd.AddCommand(&cobra.Command{
			Use: sh.name, Short: sh.short, Example: sh.example, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return sh.gen(cmd.Root()) },
		})
	}
	return cmd
}
