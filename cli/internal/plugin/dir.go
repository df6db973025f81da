package plugin

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// EnvDir overrides the plugin directory.
const EnvDir = "FLUXCD_PLUGINS"

// Prefix starts every plugin executable's name.
const Prefix = "flux-"

// Dir is the plugin directory: $FLUXCD_PLUGINS, else ~/.fluxcd/plugins ("" without a home).
func Dir(getenv func(string) string) string {
	if d := getenv(EnvDir); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".fluxcd", "plugins")
}

// Plugin is an installed plugin executable.
type Plugin struct {
	Name string // "operator" for flux-operator
	Path string
}

// Discover lists the executables flux-<name> in dir, except names in reserved (the CLI's
// own commands): a plugin never shadows a built-in command.
func Discover(dir string, reserved []string) []Plugin {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []Plugin
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), Prefix)
		if !ok || e.IsDir() || strings.HasSuffix(name, ".yaml") {
			continue
		}
		if runtime.GOOS == "windows" {
			name = strings.TrimSuffix(name, ".exe")
		}
		if name == "" || name == "plugin" || name == "help" || slices.Contains(reserved, name) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p) // follows symlinks: a broken one is skipped
		if err != nil || !fi.Mode().IsRegular() || (runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0) {
			continue
		}
		out = append(out, Plugin{Name: name, Path: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func receiptPath(dir, name string) string { return filepath.Join(dir, Prefix+name+".yaml") }

// ReadReceipt is the receipt of an installed plugin; nil when it was installed by hand.
func ReadReceipt(dir, name string) *Receipt {
	data, err := os.ReadFile(receiptPath(dir, name))
	if err != nil {
		return nil
	}
	var r Receipt
	if yaml.Unmarshal(data, &r) != nil {
		return nil
	}
	return &r
}

func writeReceipt(dir string, r Receipt) error {
	r.InstalledAt = time.Now().UTC().Format(time.RFC3339)
	data, err := yaml.Marshal(r)
	if err != nil {
		return err
	}
	return os.WriteFile(receiptPath(dir, r.Name), data, 0o644)
}
