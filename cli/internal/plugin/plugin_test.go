package plugin_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"gotk.dev/cli/internal/plugin"
	"gotk.dev/cli/internal/plugin/plugintest"
)

func script(out string) string { return "#!/bin/sh\necho " + out + " \"$@\"\n" }

func client(cat *plugintest.Catalog) *plugin.CatalogClient {
	return plugin.NewCatalogClient(func(k string) string {
		if k == plugin.EnvCatalog {
			return cat.URL
		}
		return ""
	})
}

// install resolves version of name from the catalog and installs it into dir.
func install(t *testing.T, c *plugin.CatalogClient, dir, name, version string) error {
	t.Helper()
	ctx := context.Background()
	m, err := c.Manifest(ctx, name)
	if err != nil {
		return err
	}
	v, p, err := m.Resolve(version, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return err
	}
	return plugin.Install(ctx, c.HTTP, dir, m, v, p)
}

func runBin(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, out)
	}
	return string(out)
}

// TestInstallFormats installs each download format upstream's catalog uses and runs the
// installed executable.
func TestInstallFormats(t *testing.T) {
	t.Parallel()
	cases := []plugintest.Release{
		{Version: "1.0.0", Format: "tar.gz"},
		{Version: "1.0.0", Format: "zip"},
		{Version: "1.0.0", Format: "tar"},
		{Version: "1.0.0", Format: "raw"},
		{Version: "1.0.0", Format: "tar.gz", Entry: "release/bin/flux-tool", ExtractPath: "release/bin/flux-tool"},
		{Version: "1.0.0", Format: "zip", Entry: "nested/flux-tool"}, // found by base name
	}
	for _, r := range cases {
		t.Run(r.Format+"/"+r.Entry, func(t *testing.T) {
			t.Parallel()
			r.Script = script("tool-" + r.Format)
			cat := plugintest.Start(t, plugintest.Plugin{Name: "tool", Description: "A tool", Releases: []plugintest.Release{r}})
			dir := filepath.Join(t.TempDir(), "plugins") // created on first install
			if err := install(t, client(cat), dir, "tool", ""); err != nil {
				t.Fatal(err)
			}
			if got := runBin(t, filepath.Join(dir, "flux-tool"), "a", "b"); got != "tool-"+r.Format+" a b\n" {
				t.Errorf("installed plugin printed %q", got)
			}
			rec := plugin.ReadReceipt(dir, "tool")
			if rec == nil || rec.Version != "1.0.0" || rec.Platform.OS != runtime.GOOS || !strings.HasPrefix(rec.Platform.Checksum, "sha256:") || rec.InstalledAt == "" {
				t.Errorf("receipt %+v", rec)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("plugin directory holds %d entries, want the binary and its receipt", len(entries))
			}
		})
	}
}

// TestInstallRejects covers downloads and manifests that must not install anything.
func TestInstallRejects(t *testing.T) {
	t.Parallel()
	cat := plugintest.Start(t,
		plugintest.Plugin{Name: "tampered", Releases: []plugintest.Release{{Version: "1.0.0", Script: script("x"), WrongChecksum: true}}},
		plugintest.Plugin{Name: "misnamed", Releases: []plugintest.Release{{Version: "1.0.0", Script: script("x"), Entry: "other-binary"}}},
		plugintest.Plugin{Name: "escape", Releases: []plugintest.Release{{Version: "1.0.0", Script: script("x"), Entry: "../flux-escape"}}},
		plugintest.Plugin{Name: "elsewhere", Releases: []plugintest.Release{{Version: "1.0.0", Script: script("x"), OtherPlatform: true}}},
	)
	cat.Set("wrongkind.yaml", "apiVersion: cli.fluxcd.io/v1beta1\nkind: PluginCatalog\nname: wrongkind\nbin: flux-wrongkind\n")
	cat.Set("badbin.yaml", "apiVersion: cli.fluxcd.io/v1beta1\nkind: Plugin\nname: badbin\nbin: ../../usr/bin/sh\nversions: []\n")
	cat.Set("garbage.yaml", "apiVersion: [unclosed\n")
	c := client(cat)
	cases := map[string]string{
		"tampered":  "checksum verification failed (expected: sha256:",
		"misnamed":  `binary "flux-misnamed" not found in archive`,
		"escape":    `binary "flux-escape" not found in archive`,
		"elsewhere": "has no binary for " + runtime.GOOS + "/" + runtime.GOARCH,
		"wrongkind": "unsupported apiVersion/kind cli.fluxcd.io/v1beta1/PluginCatalog",
		"badbin":    `invalid bin "../../usr/bin/sh"`,
		"garbage":   `failed to parse plugin manifest for "garbage"`,
		"missing":   `plugin "missing" not found in catalog ` + cat.URL + ": HTTP 404",
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			err := install(t, c, dir, name, "")
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("install %s: %v, want an error with %q", name, err, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed install left %v behind", entries)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "flux-escape")); err == nil {
				t.Error("an archive entry escaped the plugin directory")
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		c := plugin.NewCatalogClient(func(string) string { return "http://127.0.0.1:1/catalog" })
		if _, err := c.Catalog(context.Background()); err == nil || !strings.Contains(err.Error(), "failed to fetch plugin catalog") {
			t.Fatalf("unreachable catalog: %v", err)
		}
	})
}

func TestResolve(t *testing.T) {
	t.Parallel()
	m := &plugin.Manifest{Name: "op", Versions: []plugin.Version{
		{Version: "0.2.0", Platforms: []plugin.Platform{{OS: "linux", Arch: "amd64", Checksum: "sha256:bb"}}},
		{Version: "0.1.0", Platforms: []plugin.Platform{{OS: "linux", Arch: "amd64", Checksum: "sha256:aa"}, {OS: "darwin", Arch: "arm64", Checksum: "sha256:cc"}}},
	}}
	cases := []struct{ version, goos, want, err string }{
		{"", "linux", "0.2.0", ""},
		{"0.1.0", "linux", "0.1.0", ""},
		{"v0.1.0", "linux", "0.1.0", ""},
		{"sha256:aa", "linux", "0.1.0", ""},
		{"sha256:cc", "darwin", "0.1.0", ""},
		{"", "darwin", "", `plugin "op" 0.2.0 has no binary for darwin/arm64`},
		{"9.9.9", "linux", "", `version "9.9.9" not found for plugin "op"`},
		{"sha256:ff", "linux", "", `version "sha256:ff" not found for plugin "op"`},
	}
	for _, tc := range cases {
		arch := "amd64"
		if tc.goos == "darwin" {
			arch = "arm64"
		}
		v, _, err := m.Resolve(tc.version, tc.goos, arch)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("Resolve(%q, %s): %v, want error %q", tc.version, tc.goos, err, tc.err)
		case tc.err == "" && (err != nil || v.Version != tc.want):
			t.Errorf("Resolve(%q, %s) = %v, %v; want %s", tc.version, tc.goos, v, err, tc.want)
		}
	}
}

// TestDiscover lists executables named flux-<name>, and nothing a user did not mean as a
// plugin.
func TestDiscover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script(name)), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("flux-b", 0o755)
	write("flux-a", 0o700)
	write("flux-noexec", 0o644)
	write("flux-get", 0o755)  // a built-in command: never shadowed
	write("flux-help", 0o755) // reserved
	write("flux-a.yaml", 0o644)
	write("kubectl-x", 0o755)
	write("flux-", 0o755)
	if err := os.Mkdir(filepath.Join(dir, "flux-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "tool.sh"), []byte(script("linked")), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Symlink(filepath.Join(scripts, "tool.sh"), filepath.Join(dir, "flux-linked"))
	_ = os.Symlink(filepath.Join(scripts, "gone"), filepath.Join(dir, "flux-broken"))

	var got []string
	for _, p := range plugin.Discover(dir, []string{"get", "create"}) {
		got = append(got, p.Name)
		if p.Path != filepath.Join(dir, "flux-"+p.Name) {
			t.Errorf("%s has path %s", p.Name, p.Path)
		}
	}
	if strings.Join(got, " ") != "a b linked" {
		t.Errorf("discovered %v, want [a b linked]", got)
	}
	if plugin.Discover(filepath.Join(dir, "none"), nil) != nil {
		t.Error("a missing directory holds plugins")
	}
	home := func(k string) string { return map[string]string{plugin.EnvDir: "/custom"}[k] }
	if d := plugin.Dir(home); d != "/custom" {
		t.Errorf("Dir with FLUXCD_PLUGINS = %s", d)
	}
	if d := plugin.Dir(func(string) string { return "" }); !strings.HasSuffix(d, filepath.Join(".fluxcd", "plugins")) {
		t.Errorf("default Dir = %s", d)
	}
}

func TestUpdateAndUninstall(t *testing.T) {
	t.Parallel()
	v1 := plugintest.Plugin{Name: "op", Releases: []plugintest.Release{{Version: "0.1.0", Script: script("v1")}}}
	cat := plugintest.Start(t, v1)
	c := client(cat)
	dir := t.TempDir()
	ctx := context.Background()
	if err := install(t, c, dir, "op", ""); err != nil {
		t.Fatal(err)
	}
	u, err := plugin.CheckUpdate(ctx, c, dir, "op", runtime.GOOS, runtime.GOARCH)
	if err != nil || u.Skip != plugin.SkipUpToDate || u.FromVersion != "0.1.0" {
		t.Fatalf("check with nothing new: %+v %v", u, err)
	}
	cat.Publish(t, plugintest.Plugin{Name: "op", Releases: []plugintest.Release{{Version: "0.2.0", Script: script("v2")}, v1.Releases[0]}})
	u, err = plugin.CheckUpdate(ctx, c, dir, "op", runtime.GOOS, runtime.GOARCH)
	if err != nil || u.Skip != "" || u.ToVersion != "0.2.0" {
		t.Fatalf("check with 0.2.0 out: %+v %v", u, err)
	}
	if err := plugin.Install(ctx, c.HTTP, dir, u.Manifest, u.Version, u.Platform); err != nil {
		t.Fatal(err)
	}
	if got := runBin(t, filepath.Join(dir, "flux-op")); got != "v2\n" {
		t.Errorf("after update the plugin prints %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "flux-hand"), []byte(script("hand")), 0o755); err != nil {
		t.Fatal(err)
	}
	if u, err := plugin.CheckUpdate(ctx, c, dir, "hand", runtime.GOOS, runtime.GOARCH); err != nil || u.Skip != plugin.SkipManual {
		t.Errorf("a hand-installed plugin: %+v %v", u, err)
	}
	if err := plugin.Uninstall(dir, "op"); err != nil {
		t.Fatal(err)
	}
	if err := plugin.Uninstall(dir, "op"); err == nil || err.Error() != `plugin "op" is not installed` {
		t.Errorf("second uninstall: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("uninstall left %v", entries)
	}
}

func TestRunAndComplete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "flux-op")
	body := `#!/bin/sh
if [ "$1" = "__complete" ]; then
  shift
  echo "install"
  echo "instance"
  echo ":4"
  echo "Completion ended with directive: ShellCompDirectiveNoFileComp" >&2
  exit 0
fi
read line
echo "args: $* stdin: $line"
echo "to stderr" >&2
exit 3
`
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code, err := plugin.Run(context.Background(), p, []string{"get", "--all", "-n", "x"}, plugin.Streams{In: strings.NewReader("hello\n"), Out: &out, Err: &errOut})
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if out.String() != "args: get --all -n x stdin: hello\n" || errOut.String() != "to stderr\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	if _, err := plugin.Run(context.Background(), filepath.Join(dir, "gone"), nil, plugin.Streams{}); err == nil {
		t.Error("running a missing plugin gave no error")
	}
	got, directive := plugin.Complete(context.Background(), p, []string{"get"}, "ins")
	if strings.Join(got, ",") != "install,instance" || directive != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("Complete = %v, %d", got, directive)
	}
	notCobra := filepath.Join(dir, "flux-plain")
	_ = os.WriteFile(notCobra, []byte("#!/bin/sh\necho plain\n"), 0o755)
	if got, directive := plugin.Complete(context.Background(), notCobra, nil, ""); got != nil || directive != cobra.ShellCompDirectiveDefault {
		t.Errorf("a plugin that is no Cobra program completes %v, %d", got, directive)
	}
}
