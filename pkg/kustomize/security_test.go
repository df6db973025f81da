package kustomize

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const secret = "TOP-SECRET-CONTENT"

// securityTree lays out parent/{root,outside}: outside holds files a build must never read,
// each containing the secret marker; root is the source tree under test.
func securityTree(t *testing.T, files map[string]string) (root, outside string) {
	t.Helper()
	parent := writeTree(t, map[string]string{
		"outside/secret.txt":              secret + "\n",
		"outside/secret.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\ndata:\n  k: " + secret + "\n",
		"outside/patch.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: " + secret + "\n",
		"outside/base/kustomization.yaml": "resources:\n- ../secret.yaml\n",
	})
	root = filepath.Join(parent, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, filepath.Join(parent, "outside")
}

const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n"

func TestBuildSecurity(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		path  string
		opts  Options
		err   string   // expected error substring
		want  []string // on success, expected ids
	}{
		{
			name:  "resource climbing to /etc/passwd",
			files: map[string]string{"kustomization.yaml": "resources:\n- ../../../../../../../../etc/passwd\n"},
			err:   "kustomization.yaml: resources entry '../../../../../../../../etc/passwd' points outside the source root",
		},
		{
			name:  "resource in a sibling directory",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- ../../outside/secret.yaml\n"},
			path:  "app",
			err:   "app/kustomization.yaml: resources entry '../../outside/secret.yaml' points outside the source root",
		},
		{
			name:  "base outside the root",
			files: map[string]string{"kustomization.yaml": "resources:\n- ../outside/base\n"},
			err:   "points outside the source root",
		},
		{
			name:  "absolute resource path",
			files: map[string]string{"kustomization.yaml": "resources:\n- /etc/passwd\n"},
			err:   "kustomization.yaml: resources entry '/etc/passwd' is an absolute path",
		},
		{
			name:  "absolute path in a generator",
			files: map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: x\n  files:\n  - key=/etc/passwd\n"},
			err:   "files entry '/etc/passwd' is an absolute path",
		},
		{
			name:  "generator reading outside the root",
			files: map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: x\n  files:\n  - ../outside/secret.txt\n"},
			err:   "files entry '../outside/secret.txt' points outside the source root",
		},
		{
			name:  "patch file outside the root",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\npatches:\n- path: ../outside/patch.yaml\n", "cm.yaml": cm},
			err:   "patches entry '../outside/patch.yaml' points outside the source root",
		},
		{
			name: "symlinked resource pointing outside",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- link.yaml\n",
				"link.yaml":          "symlink:../outside/secret.yaml",
			},
			err: "security: path 'link.yaml' resolves through symlink '../outside",
		},
		{
			name: "absolute symlink to /etc/passwd",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- passwd.yaml\n",
				"passwd.yaml":        "symlink:/etc/passwd",
			},
			err: "security: path 'passwd.yaml' resolves through symlink '/etc/passwd', which is outside the source root",
		},
		{
			name: "symlink chain leaving the root",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- a.yaml\n",
				"a.yaml":             "symlink:sub/b.yaml",
				"sub/b.yaml":         "symlink:../../outside/secret.yaml",
			},
			err: "is outside the source root",
		},
		{
			name: "symlinked directory as base",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- base\n",
				"base":               "symlink:../outside/base",
			},
			err: "security: path 'base' resolves through symlink '../outside",
		},
		{
			name: "kustomization.yaml itself a symlink out",
			files: map[string]string{
				"kustomization.yaml": "symlink:../outside/base/kustomization.yaml",
			},
			err: "security: path 'kustomization.yaml' resolves through symlink '../outside/base/kustomization.yaml', which is outside",
		},
		{
			name: "plain directory with a symlink out",
			files: map[string]string{
				"cm.yaml":   cm,
				"leak.yaml": "symlink:../outside/secret.yaml",
			},
			err: "security: path 'leak.yaml' resolves through symlink '../outside",
		},
		{
			name: "symlink loop",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- a.yaml\n",
				"a.yaml":             "symlink:b.yaml",
				"b.yaml":             "symlink:a.yaml",
			},
			err: "too many levels of symbolic links",
		},
		{
			name: "symlinks inside the root are fine",
			files: map[string]string{
				"kustomization.yaml":       "resources:\n- link.yaml\n- linkdir\n",
				"link.yaml":                "symlink:real/cm.yaml",
				"real/cm.yaml":             cm,
				"linkdir":                  "symlink:other",
				"other/kustomization.yaml": "namePrefix: o-\nresources:\n- cm.yaml\n",
				"other/cm.yaml":            cm,
			},
			want: []string{"ConfigMap//cm", "ConfigMap//o-cm"},
		},
		{
			name:  "build path climbing out",
			files: map[string]string{"kustomization.yaml": "resources: []\n"},
			path:  "../outside",
			err:   "path '../outside' is outside the source root",
		},
		{
			name:  "build path through a symlink out",
			files: map[string]string{"apps": "symlink:../outside/base"},
			path:  "./apps",
			err:   "path './apps': security: path 'apps' resolves through symlink '../outside",
		},
		{
			name:  "self-including kustomization",
			files: map[string]string{"kustomization.yaml": "resources:\n- .\n"},
			err:   "cycle detected",
		},
		{
			name: "two kustomizations including each other",
			files: map[string]string{
				"a/kustomization.yaml": "resources:\n- ../b\n",
				"b/kustomization.yaml": "resources:\n- ../a\n",
			},
			path: "a",
			err:  "cycle detected: candidate root 'a' contains visited root 'a'",
		},
		{
			name: "self-inclusion through a symlink",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n- loop\n",
				"app/loop":               "symlink:.",
			},
			path: "app",
			err:  "cycle detected",
		},
		{
			name:  "remote https base refused",
			files: map[string]string{"kustomization.yaml": "resources:\n- https://github.com/fluxcd/flux2//manifests/rbac?ref=main\n"},
			opts:  Options{NoRemoteBases: true},
			err:   "resources entry 'https://github.com/fluxcd/flux2//manifests/rbac?ref=main' is a remote reference, and remote bases are disabled",
		},
		{
			name:  "remote github shorthand refused",
			files: map[string]string{"kustomization.yaml": "resources:\n- github.com/fluxcd/flux2/manifests/rbac\n"},
			opts:  Options{NoRemoteBases: true},
			err:   "resources entry 'github.com/fluxcd/flux2/manifests/rbac' is a remote reference",
		},
		{
			name:  "remote scp-style base refused",
			files: map[string]string{"kustomization.yaml": "resources:\n- git@gitlab.example.com:team/repo.git//deploy\n"},
			opts:  Options{NoRemoteBases: true},
			err:   "'git@gitlab.example.com:team/repo.git//deploy' is a remote reference",
		},
		{
			name: "remote base in a nested kustomization refused",
			files: map[string]string{
				"kustomization.yaml":      "resources:\n- base\n",
				"base/kustomization.yaml": "resources:\n- git::https://example.com/org/repo//x\n",
			},
			opts: Options{NoRemoteBases: true},
			err:  "base/kustomization.yaml: resources entry 'git::https://example.com/org/repo//x' is a remote reference",
		},
		{
			name:  "remote patch refused",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\npatches:\n- path: https://example.com/patch.yaml\n", "cm.yaml": cm},
			opts:  Options{NoRemoteBases: true},
			err:   "patches entry 'https://example.com/patch.yaml' is a remote reference",
		},
		{
			name:  "remote component from the options refused",
			files: map[string]string{"kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": cm},
			opts:  Options{NoRemoteBases: true, Components: []string{"https://github.com/org/repo//components/x"}},
			err:   "components entry 'https://github.com/org/repo//components/x' is a remote reference",
		},
		{
			name: "remote file in a transformer config refused",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- patcher.yaml\n",
				"cm.yaml":            cm,
				"patcher.yaml":       "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: https://example.com/p.yaml\ntarget:\n  kind: ConfigMap\n",
			},
			opts: Options{NoRemoteBases: true},
			err:  "patcher.yaml (listed in kustomization.yaml): path entry 'https://example.com/p.yaml' is a remote reference",
		},
		{
			name: "remote file in an inline transformer refused",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata:\n    name: p\n  path: https://example.com/p.yaml\n  target:\n    kind: ConfigMap\n",
				"cm.yaml":            cm,
			},
			opts: Options{NoRemoteBases: true},
			err:  "path entry 'https://example.com/p.yaml' is a remote reference",
		},
		{
			name: "remote file in a transformer config with odd key case refused",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata:\n    name: p\n  PATH: https://example.com/p.yaml\n  target:\n    kind: ConfigMap\n",
				"cm.yaml":            cm,
			},
			opts: Options{NoRemoteBases: true},
			err:  "PATH entry 'https://example.com/p.yaml' is a remote reference",
		},
		{
			name:  "odd key case in the kustomization is read as kustomize reads it",
			files: map[string]string{"kustomization.yaml": "ResourCes:\n- https://example.com/cm.yaml\n"},
			opts:  Options{NoRemoteBases: true},
			err:   "resources entry 'https://example.com/cm.yaml' is a remote reference",
		},
		{
			name:  "file:// git base refused even with remote bases allowed",
			files: map[string]string{"kustomization.yaml": "resources:\n- file:///etc//x\n"},
			err:   "resources entry 'file:///etc//x' refers to a repository outside the source root",
		},
		{
			name:  "helm chart inflation disabled",
			files: map[string]string{"kustomization.yaml": "helmCharts:\n- name: podinfo\n  repo: https://stefanprodan.github.io/podinfo\n  version: 6.5.3\n"},
			err:   "helm",
		},
		{
			name: "exec KRM function disabled",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
				"cm.yaml":            cm,
				"fn.yaml":            "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n",
			},
			err: "external plugins disabled",
		},
		{
			name: "container KRM function disabled",
			files: map[string]string{
				"kustomization.yaml": "resources:\n- cm.yaml\ngenerators:\n- fn.yaml\n",
				"cm.yaml":            cm,
				"fn.yaml":            "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: evil:latest\n",
			},
			err: "external plugins disabled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := securityTree(t, tt.files)
			before := hashTree(t, filepath.Dir(root))
			objs, err := Build(root, tt.path, tt.opts)
			if after := hashTree(t, filepath.Dir(root)); after != before {
				t.Error("build changed the file system")
			}
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids(objs), tt.want) {
					t.Errorf("objects:\n got %v\nwant %v", ids(objs), tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("build succeeded with %v, want error containing %q", ids(objs), tt.err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.err) {
				t.Errorf("error = %q\nwant it to contain %q", msg, tt.err)
			}
			for _, leak := range []string{secret, "root:x:0:0", root, outside} {
				if strings.Contains(msg, leak) {
					t.Errorf("error leaks %q: %s", leak, msg)
				}
			}
		})
	}
}

// TestBuildNeverOpensOutsideRoot points resources at a FIFO outside the root: opening it
// for reading would block the build, so a build that returns at all did not open it.
func TestBuildNeverOpensOutsideRoot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"via kustomization", map[string]string{"kustomization.yaml": "resources:\n- fifo.yaml\n", "fifo.yaml": "symlink:../outside/fifo.yaml"}},
		{"via generated kustomization", map[string]string{"cm.yaml": cm, "fifo.yaml": "symlink:../outside/fifo.yaml"}},
		{"via configMapGenerator", map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: x\n  files:\n  - fifo.yaml\n", "fifo.yaml": "symlink:../outside/fifo.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, outside := securityTree(t, tc.files)
			if err := syscall.Mkfifo(filepath.Join(outside, "fifo.yaml"), 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Build(root, ".", Options{})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "is outside the source root") {
					t.Fatalf("error = %v, want a refusal", err)
				}
			case <-time.After(20 * time.Second):
				// Unblock the reader so the goroutine ends, then fail.
				if f, err := os.OpenFile(filepath.Join(outside, "fifo.yaml"), os.O_WRONLY, 0); err == nil {
					f.Close()
				}
				t.Fatal("build blocked: it opened a file outside the source root")
			}
		})
	}
}

// TestBuildRemoteResource serves a manifest over HTTP on loopback: fetched when remote
// bases are allowed, never requested when they are not.
func TestBuildRemoteResource(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n"))
	}))
	defer srv.Close()
	root := writeTree(t, map[string]string{"kustomization.yaml": "resources:\n- " + srv.URL + "/cm.yaml\n"})

	_, err := Build(root, ".", Options{NoRemoteBases: true})
	if err == nil || !strings.Contains(err.Error(), "'"+srv.URL+"/cm.yaml' is a remote reference") {
		t.Fatalf("error = %v, want the remote reference named", err)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests reached the server with remote bases disabled", n)
	}

	objs, err := Build(root, ".", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(objs), []string{"ConfigMap//remote"}) {
		t.Fatalf("objects = %v", ids(objs))
	}
	if requests.Load() == 0 {
		t.Fatal("remote resource was not fetched")
	}
}
