package app

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pendingLeaves are upstream commands another branch adds; the test fails once one of them
// exists here, so the list only shrinks.
var pendingLeaves = map[string]string{
	"create secret notation": "branch ident (source verification, commit eee0e78) adds it",
}

// TestUpstreamLeafCommands checks every visible leaf command of upstream flux
// (testdata/flux-cli-leaves.txt, a copy of /work/shared/reference/flux-cli-leaves.txt) against
// our command tree, aliases counting, and that each takes --help.
func TestUpstreamLeafCommands(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "flux-cli-leaves.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := NewRootCommand(&Streams{})
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		leaf := strings.TrimSpace(sc.Text())
		if leaf == "" {
			continue
		}
		n++
		cmd, rest, err := root.Find(strings.Fields(leaf))
		found := err == nil && len(rest) == 0 && cmd != root && cmd.Runnable()
		why, pending := pendingLeaves[leaf]
		switch {
		case !found && !pending:
			t.Errorf("flux %s: missing (found %q, left %v, %v)", leaf, cmd.CommandPath(), rest, err)
		case found && pending:
			t.Errorf("flux %s exists now: remove it from pendingLeaves (%s)", leaf, why)
		}
	}
	if n != 142 {
		t.Errorf("read %d upstream leaves, want 142", n)
	}
}

// TestGlobalFlags: upstream's global flags are accepted by every command, and the namespace
// comes from --namespace, $FLUX_SYSTEM_NAMESPACE, or the kubeconfig context.
func TestGlobalFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: secret-token}}]
contexts:
- {name: team, context: {cluster: c, user: u, namespace: team-a}}
- {name: plain, context: {cluster: c, user: u}}
current-context: team
`), 0o600); err != nil {
		t.Fatal(err)
	}
	global := []string{"--kubeconfig=" + kc, "--as=jane", "--as-group=devs", "--as-group=ops", "--as-uid=42",
		"--as-user-extra=reason=audit", "--cache-dir=" + dir, "--certificate-authority=", "--client-certificate=",
		"--client-key=", "--cluster=c", "--context=team", "--disable-compression", "--insecure-skip-tls-verify",
		"--kube-api-qps=20", "--kube-api-burst=40", "--server=https://127.0.0.1:1", "--tls-server-name=api",
		"--token=t", "--user=u", "--timeout=1s", "--verbose", "--ns-follows-kube-context"}
	// export --export never talks to the cluster: the flags only have to parse.
	r := runFlux(t, "", append([]string{"create", "source", "git", "x", "--url=https://example.com/x", "--branch=main", "--export"}, global...)...)
	if r.code != 0 {
		t.Fatalf("global flags refused: exit %d\n%s", r.code, r.stderr)
	}
	wants(t, "export", r.stdout, "namespace: team-a\n")

	ns := func(env map[string]string, args ...string) string {
		t.Helper()
		r := runFluxEnv(t, env, "", append([]string{"create", "source", "git", "x", "--url=https://example.com/x", "--branch=main", "--export", "--kubeconfig=" + kc}, args...)...)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "namespace: "); ok {
				return v
			}
		}
		t.Fatalf("no namespace in\n%s", r.stdout)
		return ""
	}
	env := map[string]string{EnvSystemNamespace: "gitops"}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default", nil, nil, "flux-system"},
		{"FLUX_SYSTEM_NAMESPACE", env, nil, "gitops"},
		{"--namespace wins", env, []string{"-n", "apps", "--ns-follows-kube-context"}, "apps"},
		{"context namespace", env, []string{"--ns-follows-kube-context"}, "team-a"},
		{"context without namespace", env, []string{"--ns-follows-kube-context", "--context=plain"}, "gitops"},
	}
	for _, tc := range cases {
		if got := ns(tc.env, tc.args...); got != tc.want {
			t.Errorf("%s: namespace %q, want %q", tc.name, got, tc.want)
		}
	}
	r = runFlux(t, "", "get", "kustomizations", "--kubeconfig="+kc, "--kube-api-qps=0")
	if r.code != 1 || !strings.Contains(r.stderr, "--kube-api-qps and --kube-api-burst must be positive") {
		t.Errorf("--kube-api-qps=0: exit %d %q", r.code, r.stderr)
	}
}
