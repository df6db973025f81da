package framework

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/ports"

	"gotk.dev/e2e/cluster"
)

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"typical", "Name:\tfoo\nVmPeak:\t  100 kB\nVmHWM:\t   2048 kB\nVmRSS:\t 1024 kB\n", 2048 * 1024, false},
		{"zero", "VmHWM:\t0 kB\n", 0, false},
		{"missing (kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, true},
		{"wrong unit", "VmHWM:\t2048 MB\n", 0, true},
		{"not a number", "VmHWM:\tlots kB\n", 0, true},
		{"negative", "VmHWM:\t-5 kB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmHWM([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseVmHWM = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	anon, err := parseStatusKB([]byte("VmHWM:\t   2048 kB\nRssAnon:\t  512 kB\nRssFile:\t 1536 kB\n"), "RssAnon:")
	if err != nil || anon != 512*1024 {
		t.Errorf("RssAnon = %d, %v; want %d", anon, err, 512*1024)
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields after the name: state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt
	// cmajflt utime(14) stime(15) cutime(16) cstime(17) ...
	tail := " S 1 2 3 4 5 6 7 8 9 10 150 50 30 20 0 0 1 0 100 200 300\n"
	tests := []struct {
		name    string
		in      string
		want    float64
		wantErr bool
	}{
		{"plain name", "42 (source-ctrl)" + tail, 2.5, false},
		{"name with spaces and parens", "42 (a b) (c))" + tail, 2.5, false},
		{"no name", "42 source" + tail, 0, true},
		{"truncated", "42 (x) S 1 2 3", 0, true},
		{"garbage in utime", "42 (x) S 1 2 3 4 5 6 7 8 9 10 xx 50 30 20 0 0 1\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestReadProcSelf reads this test process: a live process has a positive peak RSS.
func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.HWM < 1<<20 || s.CPUSeconds < 0 {
		t.Fatalf("implausible sample of this process: %+v", s)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		want    []ControllerOptions
		keep    bool
		wantErr string
	}{
		{
			name: "default set",
			env:  map[string]string{},
			want: []ControllerOptions{{Name: "source-controller"}, {Name: "kustomize-controller"}},
		},
		{
			name: "binary and args per controller",
			env: map[string]string{
				EnvControllers:                      " source-controller ,helm-controller",
				"GOTK_E2E_SOURCE_CONTROLLER_BIN":    "/opt/flux/source-controller",
				"GOTK_E2E_SOURCE_CONTROLLER_ARGS":   "--concurrent=10  --kube-api-qps=500",
				"GOTK_E2E_KUSTOMIZE_CONTROLLER_BIN": "/ignored/not/selected",
				EnvKeep:                             "true",
			},
			want: []ControllerOptions{
				{Name: "source-controller", Bin: "/opt/flux/source-controller", Args: []string{"--concurrent=10", "--kube-api-qps=500"}},
				{Name: "helm-controller"},
			},
			keep: true,
		},
		{name: "none", env: map[string]string{EnvControllers: "none"}},
		{name: "unknown controller", env: map[string]string{EnvControllers: "source-controller,flagger"}, wantErr: `unknown controller "flagger"`},
		{name: "duplicate", env: map[string]string{EnvControllers: "source-controller,source-controller"}, wantErr: "listed twice"},
		{name: "bad keep", env: map[string]string{EnvKeep: "perhaps"}, wantErr: "GOTK_E2E_KEEP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := OptionsFromEnv(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Keep != tt.keep {
				t.Errorf("Keep = %v, want %v", o.Keep, tt.keep)
			}
			if len(o.Controllers) != len(tt.want) {
				t.Fatalf("controllers = %+v, want %+v", o.Controllers, tt.want)
			}
			for i, c := range o.Controllers {
				w := tt.want[i]
				if c.Name != w.Name || c.Bin != w.Bin || !slices.Equal(c.Args, w.Args) {
					t.Errorf("controller %d = %+v, want %+v", i, c, w)
				}
			}
		})
	}
}

func TestWithControllersKeepsConfiguration(t *testing.T) {
	o := Options{Controllers: []ControllerOptions{
		{Name: "kustomize-controller"},
		{Name: "source-controller", Bin: "/x", Args: []string{"--concurrent=3"}},
	}}
	got := o.WithControllers("source-controller", "helm-controller").Controllers
	if len(got) != 2 || got[0].Bin != "/x" || got[0].Args[0] != "--concurrent=3" || got[1].Name != "helm-controller" {
		t.Fatalf("WithControllers = %+v", got)
	}
}

// TestArgsMirrorManifests pins the command lines: manifest arguments first, then the local
// addresses, then user arguments last so they win.
func TestArgsMirrorManifests(t *testing.T) {
	addrs := processAddrs{Metrics: "127.0.0.1:1", Health: "127.0.0.1:2", Storage: "127.0.0.1:3", Events: "127.0.0.1:4", Receiver: "127.0.0.1:5"}
	tests := []struct {
		name      string
		events    string
		extra     []string
		want      []string
		wantNot   []string
		wantFirst []string
	}{
		{
			name: "source-controller",
			want: []string{"--storage-path=/s", "--storage-addr=127.0.0.1:3", "--storage-adv-addr=127.0.0.1:3",
				"--events-addr=", "--metrics-addr=127.0.0.1:1", "--health-addr=127.0.0.1:2", "--kubeconfig=/kc"},
		},
		{
			name:    "kustomize-controller",
			events:  "http://127.0.0.1:4/",
			extra:   []string{"--concurrent=20"},
			want:    []string{"--events-addr=http://127.0.0.1:4/", "--concurrent=20"},
			wantNot: []string{"--storage-path=/s", "--storage-addr=127.0.0.1:3"},
		},
		{
			name: "notification-controller",
			want: []string{"--events-addr=127.0.0.1:4", "--receiverAddr=127.0.0.1:5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := LookupController(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			args := argsFor(spec, addrs, "/kc", "/s", tt.events, tt.extra)
			if !slices.Equal(args[:len(manifestArgs)], manifestArgs) {
				t.Errorf("args start %v, want the manifest arguments %v", args[:len(manifestArgs)], manifestArgs)
			}
			for _, w := range tt.want {
				if !slices.Contains(args, w) {
					t.Errorf("args %v lack %q", args, w)
				}
			}
			for _, w := range tt.wantNot {
				if slices.Contains(args, w) {
					t.Errorf("args %v have %q", args, w)
				}
			}
			if len(tt.extra) > 0 && !slices.Equal(args[len(args)-len(tt.extra):], tt.extra) {
				t.Errorf("user arguments are not last: %v", args)
			}
		})
	}
}

func TestControllerFor(t *testing.T) {
	for kind, want := range map[string]string{
		"GitRepository": "source-controller", "OCIRepository": "source-controller",
		"Kustomization": "kustomize-controller", "HelmRelease": "helm-controller",
		"ImagePolicy": "image-reflector-controller", "ImageUpdateAutomation": "image-automation-controller",
		"Receiver": "notification-controller", "Deployment": "",
	} {
		if got := ControllerFor(kind); got != want {
			t.Errorf("ControllerFor(%s) = %q, want %q", kind, got, want)
		}
	}
}

func TestParseAPIRequests(t *testing.T) {
	body := `# HELP apiserver_request_total [STABLE] Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="GET",version="v1"} 7
apiserver_request_total{code="404",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="GET",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="source.toolkit.fluxcd.io",resource="ocirepositories",scope="resource",subresource="status",verb="PATCH",version="v1"} 5
apiserver_request_total{code="200",component="",dry_run="",group="",resource="",scope="",subresource="/readyz",verb="GET",version=""} 2
# TYPE other_metric gauge
other_metric 1
`
	before, err := parseAPIRequests([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if before.ByVerb["GET"] != 12 || before.ByVerb["PATCH"] != 5 || before.Total() != 17 {
		t.Fatalf("ByVerb = %v", before.ByVerb)
	}
	if before.ByResource["PATCH ocirepositories.source.toolkit.fluxcd.io/status"] != 5 || before.ByResource["GET configmaps"] != 10 {
		t.Fatalf("ByResource = %v", before.ByResource)
	}
	after, err := parseAPIRequests([]byte(strings.ReplaceAll(body, "} 5\n", "} 9\n")))
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(before, after)
	if len(d.ByVerb) != 1 || d.ByVerb["PATCH"] != 4 || d.Total() != 4 {
		t.Fatalf("Diff = %+v, want only PATCH=4", d)
	}
	if _, err := parseAPIRequests([]byte("other_metric 1\n")); err == nil {
		t.Fatal("want an error when apiserver_request_total is missing")
	}
}

func TestTreeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"a.yaml": "a", "deploy/b.yaml": "b", "deploy/nested/c.yaml": "c"}
	if err := WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(files) || got["deploy/nested/c.yaml"] != "c" {
		t.Fatalf("ReadTree = %v", got)
	}
	if err := WriteTree(dir, map[string]string{"../escape": "x"}); err == nil {
		t.Fatal("WriteTree wrote outside its directory")
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTree(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadTree followed a symlink: %v", err)
	}
}

func TestDecodeObjects(t *testing.T) {
	objs, err := DecodeObjects([]byte("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\n{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"b\"}}\n"))
	if err != nil || len(objs) != 2 || objs[1].GetKind() != "Secret" {
		t.Fatalf("DecodeObjects = %v, %v", objs, err)
	}
	if _, err := DecodeObjects([]byte("metadata: {name: x}\n")); err == nil || !strings.Contains(err.Error(), "document 1") {
		t.Fatalf("want an error naming the document without kind, got %v", err)
	}
}

// TestProcessAccounting runs a real CPU-burning child through two incarnations (one
// SIGKILLed, one stopped) and checks that CPU time and peak RSS cover both.
func TestProcessAccounting(t *testing.T) {
	dir := t.TempDir()
	p := &Process{
		Name: "burner", Bin: "/bin/sh",
		// A fixed amount of work (~0.3s of CPU on an idle core), not a wall-clock burn: on a
		// loaded machine a time-boxed loop may get almost no CPU, and the test would flake.
		Args:        []string{"-c", `i=0; while [ $i -lt 600000 ]; do i=$((i+1)); done; echo bu""rnt; exec sleep 60`},
		Logs:        filepath.Join(dir, "burner.log"),
		sampleEvery: 50 * time.Millisecond,
	}
	waitLog := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(p.LogTail(100), "burnt") < n {
			if time.Now().After(deadline) {
				t.Fatalf("burner did not finish incarnation %d; log:\n%s", n, p.LogTail(20))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	waitLog(1)
	first := p.CPUSeconds()
	if first < 0.15 || p.PeakRSS() <= 0 {
		t.Fatalf("live incarnation: CPU %.2fs, RSS %d; want the burn to show", first, p.PeakRSS())
	}
	p.Kill()
	if p.Running() {
		t.Fatal("still running after Kill")
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	waitLog(2)
	p.Stop()
	if got := p.CPUSeconds(); got < first+0.15 {
		t.Fatalf("CPU after two incarnations %.2fs, first alone %.2fs: the second was not added", got, first)
	}
	if p.Starts() != 2 || strings.Count(p.LogTail(100), "# gotk-e2e: start #") != 2 {
		t.Fatalf("starts %d; log:\n%s", p.Starts(), p.LogTail(100))
	}
}

// TestCommitDirMirrors commits a local tree into a real bare repository twice and checks
// that the second commit mirrors the directory under its prefix and leaves the rest alone.
func TestCommitDirMirrors(t *testing.T) {
	repos, err := gitserver.NewRepos(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := repos.Init("app"); err != nil {
		t.Fatal(err)
	}
	r := &GitRepo{Name: "app", Branch: gitserver.DefaultBranch, repos: repos}
	if _, err := r.Commit(map[string]string{"README.md": "hi", "deploy/old.yaml": "old"}, "init"); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	if err := WriteTree(local, map[string]string{"new.yaml": "new", "sub/x.yaml": "x"}); err != nil {
		t.Fatal(err)
	}
	hash, err := r.CommitDir(local, "deploy", "mirror")
	if err != nil {
		t.Fatal(err)
	}
	files, err := r.Files()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	want := []string{"README.md", "deploy/new.yaml", "deploy/sub/x.yaml"}
	if !slices.Equal(files, want) {
		t.Fatalf("files after CommitDir = %v, want %v", files, want)
	}
	if got, _ := repos.Resolve("app", "main"); got != hash || r.Revision(hash) != "main@sha1:"+hash {
		t.Fatalf("branch at %s, CommitDir returned %s", got, hash)
	}
	// At the root, the whole tree is replaced.
	if _, err := r.CommitDir(local, "", "root"); err != nil {
		t.Fatal(err)
	}
	files, _ = r.Files()
	slices.Sort(files)
	if want := []string{"new.yaml", "sub/x.yaml"}; !slices.Equal(files, want) {
		t.Fatalf("files after CommitDir at the root = %v, want %v", files, want)
	}
}

// TestPeerGetsNoKubeconfigFlag: upstream Flux's controllers have no --kubeconfig flag (and
// exit on an unknown one), so a peer finds the cluster through $KUBECONFIG alone; ours get
// both.
func TestPeerGetsNoKubeconfigFlag(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	e := &Env{Dir: dir, Cluster: &cluster.Cluster{Kubeconfig: kubeconfig}, Controllers: map[string]*Process{},
		freePort: ports.Free}
	spec, err := LookupController("source-controller")
	if err != nil {
		t.Fatal(err)
	}
	for _, peer := range []bool{false, true} {
		p, err := e.newProcess(spec, ControllerOptions{Name: spec.Name, Peer: peer, Args: []string{"--concurrent=10"}}, "/bin/x", "")
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(p.Args, "--kubeconfig="+kubeconfig); got == peer {
			t.Errorf("peer=%v: --kubeconfig passed = %v: %v", peer, got, p.Args)
		}
		if !slices.Contains(p.Env, "KUBECONFIG="+kubeconfig) || !slices.Contains(p.Args, "--concurrent=10") ||
			!slices.Contains(p.Args, "--storage-adv-addr="+p.StorageAddr) {
			t.Errorf("peer=%v: env %v args %v lack KUBECONFIG, the tuning or the storage address", peer, p.Env, p.Args)
		}
	}
}
