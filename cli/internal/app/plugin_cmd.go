package app

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gotk.dev/cli/internal/plugin"
)

// pluginGroup is the help group discovered plugins are listed under, as upstream.
const pluginGroup = "plugin"

// builtinNames are the root's own commands: a plugin of the same name is never run.
func builtinNames(root *cobra.Command) []string {
	var names []string
	for _, sub := range root.Commands() {
		if sub.GroupID != pluginGroup {
			names = append(names, sub.Name())
			names = append(names, sub.Aliases...)
		}
	}
	return append(names, "completion", "help") // cobra adds these lazily
}

// registerPlugins adds a `flux <name>` command for every flux-<name> executable in the
// plugin directory, listed under "Plugin Commands:" in flux --help. Flags are the
// plugin's own: everything after the name goes to it untouched.
func registerPlugins(root *cobra.Command, c *Command) {
	plugins := plugin.Discover(plugin.Dir(c.Getenv), builtinNames(root))
	if len(plugins) == 0 {
		return
	}
	root.AddGroup(&cobra.Group{ID: pluginGroup, Title: "Plugin Commands:"})
	for _, p := range plugins {
		root.AddCommand(&cobra.Command{
			Use:                p.Name,
			Short:              fmt.Sprintf("Runs the %s plugin", p.Name),
			Long:               fmt.Sprintf("This command runs the %s plugin.\nUse 'flux %s --help' for full plugin help.", p.Name, p.Name),
			GroupID:            pluginGroup,
			DisableFlagParsing: true,
			ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return plugin.Complete(cmd.Context(), p.Path, args, toComplete)
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				code, err := plugin.Run(cmd.Context(), p.Path, args, plugin.Streams{In: c.In, Out: c.Out, Err: c.Err})
				if err != nil {
					return fmt.Errorf("failed to run plugin %s (%s): %w", p.Name, p.Path, err)
				}
				if code != 0 {
					return &ExitError{Code: code} // the plugin said what went wrong
				}
				return nil
			},
		})
	}
}

// newPluginCommand is flux plugin: install, list, search, update and uninstall plugins from
// the catalog ($FLUXCD_PLUGIN_CATALOG) into the plugin directory ($FLUXCD_PLUGINS).
func newPluginCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Manage Flux CLI plugins",
		Long:  "The plugin sub-commands manage Flux CLI plugins.",
	}
	cmd.AddCommand(newPluginListCommand(c), newPluginSearchCommand(c), newPluginInstallCommand(c),
		newPluginUpdateCommand(c), newPluginUninstallCommand(c))
	return cmd
}

// completeInstalled completes the name of an installed plugin (update, uninstall).
func completeInstalled(c *Command) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		_, plugins := installedPlugins(cmd, c)
		var names []string
		for _, p := range plugins {
			if strings.HasPrefix(p.Name, toComplete) {
				names = append(names, p.Name)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// installedPlugins are the plugins in the plugin directory, built-in names left out.
func installedPlugins(cmd *cobra.Command, c *Command) (string, []plugin.Plugin) {
	dir := plugin.Dir(c.Getenv)
	return dir, plugin.Discover(dir, builtinNames(cmd.Root()))
}

func newPluginListCommand(c *Command) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List installed plugins",
		Long:    "The plugin list command shows all installed plugins with their versions and paths.",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, plugins := installedPlugins(cmd, c)
			if len(plugins) == 0 {
				_, err := fmt.Fprintln(c.Out, "No plugins found")
				return err
			}
			var rows [][]string
			for _, p := range plugins {
				version := "manual"
				if r := plugin.ReadReceipt(dir, p.Name); r != nil {
					version = r.Version
				}
				rows = append(rows, []string{p.Name, version, p.Path})
			}
			return writeTabTable(c.Out, []string{"NAME", "VERSION", "PATH"}, rows)
		},
	}
}

func newPluginSearchCommand(c *Command) *cobra.Command {
	return &cobra.Command{
		Use:   "search [query]",
		Short: "Search the plugin catalog",
		Long:  "The plugin search command lists available plugins from the Flux plugin catalog.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := plugin.NewCatalogClient(c.Getenv).Catalog(cmd.Context())
			if err != nil {
				return err
			}
			query := ""
			if len(args) == 1 {
				query = strings.ToLower(args[0])
			}
			dir := plugin.Dir(c.Getenv)
			var rows [][]string
			for _, e := range cat.Plugins {
				if query != "" && !strings.Contains(strings.ToLower(e.Name), query) && !strings.Contains(strings.ToLower(e.Description), query) {
					continue
				}
				installed := ""
				if r := plugin.ReadReceipt(dir, e.Name); r != nil {
					installed = r.Version
				}
				rows = append(rows, []string{e.Name, e.Description, installed})
			}
			switch {
			case len(rows) > 0:
				return writeTabTable(c.Out, []string{"NAME", "DESCRIPTION", "INSTALLED"}, rows)
			case query != "":
				_, err = fmt.Fprintf(c.Out, "No plugins matching %q found in catalog\n", query)
			default:
				_, err = fmt.Fprintln(c.Out, "No plugins found in catalog")
			}
			return err
		},
	}
}

func newPluginInstallCommand(c *Command) *cobra.Command {
	return &cobra.Command{
		Use:   "install <name>[@<version>|@<digest>]",
		Short: "Install a plugin from the catalog",
		Long:  "The plugin install command downloads and installs a plugin from the Flux plugin catalog.",
		Example: `  # Install the latest version
  flux plugin install operator

  # Install a specific version
  flux plugin install operator@0.45.0

  # Install pinned to a specific digest
  flux plugin install operator@sha256:06e0a38db4fa6bc9f705a577c7e58dc020bfe2618e45488599e5ef7bb62e3a8a`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, _ := strings.Cut(args[0], "@")
			if err := validPluginName(name); err != nil {
				return err
			}
			if slices.Contains(builtinNames(cmd.Root()), name) || name == "plugin" {
				return fmt.Errorf("plugin %q cannot be installed: flux %s is a built-in command, which a plugin never shadows", name, name)
			}
			catalog := plugin.NewCatalogClient(c.Getenv)
			m, err := catalog.Manifest(cmd.Context(), name)
			if err != nil {
				return err
			}
			v, p, err := m.Resolve(version, runtime.GOOS, runtime.GOARCH)
			if err != nil {
				return err
			}
			dir := plugin.Dir(c.Getenv)
			if dir == "" {
				return errors.New("no plugin directory: set FLUXCD_PLUGINS or HOME")
			}
			c.Log().Actionf("installing %s v%s", name, v.Version)
			if err := plugin.Install(cmd.Context(), catalog.HTTP, dir, m, v, p); err != nil {
				return fmt.Errorf("failed to install plugin %s v%s: %w", name, v.Version, err)
			}
			c.Log().Successf("installed %s v%s", name, v.Version)
			return nil
		},
	}
}

func newPluginUpdateCommand(c *Command) *cobra.Command {
	return &cobra.Command{
		Use:     "update [name]",
		Aliases: []string{"upgrade"},
		Short:   "Update installed plugins",
		Long:    "The plugin update command updates installed plugins to their latest versions.",
		Example: `  # Update a single plugin
  flux plugin update operator

  # Update all installed plugins
  flux plugin update`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeInstalled(c),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, plugins := installedPlugins(cmd, c)
			if len(plugins) == 0 {
				_, err := fmt.Fprintln(c.Out, "No plugins found")
				return err
			}
			if len(args) == 1 {
				var found []plugin.Plugin
				for _, p := range plugins {
					if p.Name == args[0] {
						found = append(found, p)
					}
				}
				if len(found) == 0 {
					return fmt.Errorf("plugin %q is not installed", args[0])
				}
				plugins = found
			}
			catalog := plugin.NewCatalogClient(c.Getenv)
			log := c.Log()
			failed := 0
			for _, p := range plugins {
				u, err := plugin.CheckUpdate(cmd.Context(), catalog, dir, p.Name, runtime.GOOS, runtime.GOARCH)
				switch {
				case err != nil:
					log.Failuref("error checking %s: %v", p.Name, err)
					failed++
					continue
				case u.Skip == plugin.SkipManual:
					log.Warningf("skipping %s (%s)", p.Name, u.Skip)
					continue
				case u.Skip != "":
					log.Successf("%s already up to date (v%s)", p.Name, u.FromVersion)
					continue
				}
				log.Actionf("updating %s v%s → v%s", p.Name, u.FromVersion, u.ToVersion)
				if err := plugin.Install(cmd.Context(), catalog.HTTP, dir, u.Manifest, u.Version, u.Platform); err != nil {
					log.Failuref("error updating %s: %v", p.Name, err)
					failed++
					continue
				}
				log.Successf("updated %s v%s → v%s", p.Name, u.FromVersion, u.ToVersion)
			}
			if failed > 0 {
				// Upstream exits 0 here; a script running `flux plugin update` must learn
				// that a plugin stayed behind, so the failures (already printed) set the code.
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
}

func newPluginUninstallCommand(c *Command) *cobra.Command {
	return &cobra.Command{
		Use:               "uninstall <name>",
		Aliases:           []string{"delete"},
		Short:             "Uninstall a plugin",
		Long:              "The plugin uninstall command removes a plugin binary and its receipt from the plugin directory.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeInstalled(c),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validPluginName(args[0]); err != nil {
				return err
			}
			if err := plugin.Uninstall(plugin.Dir(c.Getenv), args[0]); err != nil {
				return err
			}
			c.Log().Successf("uninstalled %s", args[0])
			return nil
		},
	}
}

// validPluginName refuses names that would reach outside the plugin directory or the
// catalog (flux plugin uninstall ../../bin/x).
func validPluginName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, "-") {
		return fmt.Errorf("invalid plugin name %q: want the catalog name, e.g. operator", name)
	}
	return nil
}
