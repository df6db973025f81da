package app

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotk.dev/cli/internal/plugin/plugintest"
	"gotk.dev/internal/testing/golden"
)

// runFluxEnv runs flux with env as its whole environment (FLUXCD_PLUGINS and friends), so
// parallel tests never share the process environment.
func runFluxEnv(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(&Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut, Env: func(k string) string { return env[k] }}, args)
	t.Logf("flux %s -> %d\n%s", strings.Join(args, " "), code, errOut.String())
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

const operatorV1 = `#!/bin/sh
if [ "$1" = "__complete" ]; then echo "get"; echo "tree"; echo ":4"; exit 0; fi
echo "operator v1 $*"
[ "$1" = "fail" ] && { echo "operator: something broke" >&2; exit 7; }
exit 0
`

// TestPluginJourney walks a user through the plugin commands against a local catalog:
// search, install a pinned version, run it as flux operator, update, uninstall.
func TestPluginJourney(t *testing.T) {
	t.Parallel()
	cat := plugintest.Start(t,
		plugintest.Plugin{Name: "operator", Description: "Flux Operator CLI", Releases: []plugintest.Release{
			{Version: "0.46.0", Script: strings.ReplaceAll(operatorV1, "v1", "v2"), Format: "zip"},
			{Version: "0.45.0", Script: operatorV1},
		}},
		plugintest.Plugin{Name: "local", Description: "Run Flux locally", Releases: []plugintest.Release{{Version: "7.0.0", Script: "#!/bin/sh\necho local\n"}}},
	)
	dir := filepath.Join(t.TempDir(), "plugins")
	env := map[string]string{"FLUXCD_PLUGINS": dir, "FLUXCD_PLUGIN_CATALOG": cat.URL}
	run := func(t *testing.T, code int, args ...string) result {
		t.Helper()
		r := runFluxEnv(t, env, "", args...)
		if r.code != code {
			t.Fatalf("flux %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
		}
		return r
	}
	// The temporary directory's length varies, and so does the padding of the last column.
	norm := func(s string) string {
		return regexp.MustCompile(` +\t\n`).ReplaceAllString(strings.ReplaceAll(s, dir, "$FLUXCD_PLUGINS"), "\t\n")
	}

	if r := run(t, 0, "plugin", "list"); r.stdout != "No plugins found\n" {
		t.Errorf("list with no plugins: %q", r.stdout)
	}
	golden.Assert(t, "plugin/search", run(t, 0, "plugin", "search").stdout)
	if r := run(t, 0, "plugin", "search", "LOCALLY"); !strings.HasPrefix(r.stdout, "NAME") || strings.Contains(r.stdout, "operator") || !strings.Contains(r.stdout, "local") {
		t.Errorf("search by description:\n%s", r.stdout)
	}
	if r := run(t, 0, "plugin", "search", "nothing-like-it"); r.stdout != "No plugins matching \"nothing-like-it\" found in catalog\n" {
		t.Errorf("search without a match: %q", r.stdout)
	}

	r := run(t, 0, "plugin", "install", "operator@0.45.0")
	wants(t, "stderr", r.stderr, "► installing operator v0.45.0\n", "✔ installed operator v0.45.0\n")
	run(t, 0, "plugin", "install", "local")
	if err := os.WriteFile(filepath.Join(dir, "flux-byhand"), []byte("#!/bin/sh\necho by hand\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "plugin/list", norm(run(t, 0, "plugin", "ls").stdout))
	golden.Assert(t, "plugin/search-installed", run(t, 0, "plugin", "search", "o").stdout)

	t.Run("run as a flux command", func(t *testing.T) {
		r := run(t, 0, "operator", "get", "instance", "-n", "flux-system", "--all")
		if r.stdout != "operator v1 get instance -n flux-system --all\n" {
			t.Errorf("plugin got other arguments: %q", r.stdout)
		}
		r = run(t, 7, "operator", "fail")
		if r.stderr != "operator: something broke\n" {
			t.Errorf("a failing plugin's stderr is its own: %q", r.stderr)
		}
		help := run(t, 0, "--help").stdout
		wants(t, "flux --help", help, "Plugin Commands:\n  byhand", "  operator    Runs the operator plugin")
		r = run(t, 0, "__complete", "operator", "")
		if !strings.HasPrefix(r.stdout, "get\ntree\n:4\n") {
			t.Errorf("completion of plugin arguments: %q", r.stdout)
		}
	})

	r = run(t, 0, "plugin", "update")
	wants(t, "stderr", r.stderr, "► updating operator v0.45.0 → v0.46.0\n", "✔ updated operator v0.45.0 → v0.46.0\n",
		"✔ local already up to date (v7.0.0)\n", "⚠️ skipping byhand (manually installed)\n")
	if r := run(t, 0, "operator", "x"); r.stdout != "operator v2 x\n" {
		t.Errorf("after the update the plugin prints %q", r.stdout)
	}
	run(t, 0, "plugin", "upgrade", "operator")
	if n := cat.Downloads("operator"); n != 2 {
		t.Errorf("operator downloaded %d times, want 2 (an up-to-date plugin is not downloaded again)", n)
	}

	if r := run(t, 0, "__complete", "plugin", "uninstall", ""); !strings.HasPrefix(r.stdout, "byhand\nlocal\noperator\n:4\n") {
		t.Errorf("completion of installed plugins: %q", r.stdout)
	}
	if r := run(t, 0, "__complete", "plugin", "update", "op"); !strings.HasPrefix(r.stdout, "operator\n:4\n") {
		t.Errorf("completion of installed plugins by prefix: %q", r.stdout)
	}
	r = run(t, 0, "plugin", "uninstall", "operator")
	wants(t, "stderr", r.stderr, "✔ uninstalled operator\n")
	if _, err := os.Stat(filepath.Join(dir, "flux-operator.yaml")); !os.IsNotExist(err) {
		t.Errorf("the receipt survived uninstall: %v", err)
	}
	r = run(t, 1, "operator", "x")
	wants(t, "stderr", r.stderr, `unknown command "operator" for "flux"`)
}

// TestPluginBadInput: every refusal names what was wrong, exits non-zero and leaves the
// plugin directory as it was.
func TestPluginBadInput(t *testing.T) {
	t.Parallel()
	cat := plugintest.Start(t,
		plugintest.Plugin{Name: "tampered", Releases: []plugintest.Release{{Version: "1.0.0", Script: "#!/bin/sh\n", WrongChecksum: true}}},
		plugintest.Plugin{Name: "good", Releases: []plugintest.Release{{Version: "1.0.0", Script: "#!/bin/sh\n"}}},
	)
	dir := t.TempDir()
	env := map[string]string{"FLUXCD_PLUGINS": dir, "FLUXCD_PLUGIN_CATALOG": cat.URL}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"plugin", "install", "nope"}, `✗ plugin "nope" not found in catalog ` + cat.URL + ": HTTP 404"},
		{[]string{"plugin", "install", "good@2.0.0"}, `✗ version "2.0.0" not found for plugin "good"`},
		{[]string{"plugin", "install", "tampered"}, "✗ failed to install plugin tampered v1.0.0: checksum verification failed (expected: sha256:"},
		{[]string{"plugin", "install", "../../etc/x"}, `✗ invalid plugin name "../../etc/x": want the catalog name, e.g. operator`},
		{[]string{"plugin", "install"}, "✗ accepts 1 arg(s), received 0"},
		{[]string{"plugin", "install", "get"}, `✗ plugin "get" cannot be installed: flux get is a built-in command, which a plugin never shadows`},
		{[]string{"plugin", "uninstall", "good"}, `✗ plugin "good" is not installed`},
		{[]string{"plugin", "uninstall", ".."}, `✗ invalid plugin name ".."`},
		{[]string{"plugin", "search", "a", "b"}, "✗ accepts at most 1 arg(s), received 2"},
	}
	for _, tc := range cases {
		r := runFluxEnv(t, env, "", tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("flux %s: exit %d, stderr %q; want 1 and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed commands left %v in the plugin directory", entries)
	}

	down := map[string]string{"FLUXCD_PLUGINS": dir, "FLUXCD_PLUGIN_CATALOG": "http://127.0.0.1:1/"}
	if r := runFluxEnv(t, down, "", "plugin", "search"); r.code != 1 || !strings.Contains(r.stderr, "✗ failed to fetch plugin catalog: Get \"http://127.0.0.1:1/catalog.yaml\"") {
		t.Errorf("unreachable catalog: exit %d %q", r.code, r.stderr)
	}
	if r := runFluxEnv(t, env, "", "plugin", "install", "good"); r.code != 0 {
		t.Fatalf("install good: %s", r.stderr)
	}
	r := runFluxEnv(t, down, "", "plugin", "update", "good")
	if r.code != 1 || !strings.Contains(r.stderr, "✗ error checking good: plugin \"good\" not found in catalog http://127.0.0.1:1/") {
		t.Errorf("update against an unreachable catalog: exit %d %q", r.code, r.stderr)
	}
	if r := runFluxEnv(t, env, "", "plugin", "update", "other"); r.code != 1 || !strings.Contains(r.stderr, `✗ plugin "other" is not installed`) {
		t.Errorf("update of a plugin not installed: exit %d %q", r.code, r.stderr)
	}
}
