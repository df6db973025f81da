package sourceignore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gotk.dev/pkg/tarball"
)

func ptr(s string) *string { return &s }

// mkTree writes files (content = path unless given) below root.
func mkTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if body == "" {
			body = name
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// archivedFiles archives root with the filter through the real tarball writer and lists
// the regular files that made it in.
func archivedFiles(t *testing.T, root string, filter tarball.Filter) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := tarball.Write(&buf, root, filter); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := []string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files = append(files, h.Name)
		}
	}
	sort.Strings(files)
	return files
}

func TestFilter(t *testing.T) {
	defaultsTree := map[string]string{
		".git/config":                  "",
		".git/objects/ab/cdef":         "",
		".gitignore":                   "",
		".gitmodules":                  "",
		".gitattributes":               "",
		".github/workflows/ci.yaml":    "",
		".circleci/config.yml":         "",
		".travis.yml":                  "",
		"cloudbuild.yaml":              "",
		"logo.png":                     "",
		"docs/shot.JPG.jpg":            "",
		"dist/app.tar.gz":              "",
		".goreleaser.yml":              "",
		"apps/.sops.yaml":              "",
		"apps/deep/.flux.yaml":         "",
		"apps/deploy.yaml":             "",
		"README.md":                    "",
		"apps/deep/kustomization.yaml": "",
	}
	tests := []struct {
		name   string
		files  map[string]string
		ignore *string
		want   []string
	}{
		{
			name:  "defaults exclude VCS, media, CI and Flux files",
			files: defaultsTree,
			want:  []string{"README.md", "apps/deep/kustomization.yaml", "apps/deploy.yaml"},
		},
		{
			name:   "spec.ignore replaces the defaults but keeps VCS exclusions",
			files:  defaultsTree,
			ignore: ptr("*.md\n"),
			want: []string{
				".circleci/config.yml", ".github/workflows/ci.yaml", ".goreleaser.yml", ".travis.yml",
				"apps/.sops.yaml", "apps/deep/.flux.yaml", "apps/deep/kustomization.yaml", "apps/deploy.yaml",
				"cloudbuild.yaml", "dist/app.tar.gz", "docs/shot.JPG.jpg", "logo.png",
			},
		},
		{
			name:   "empty spec.ignore still replaces the defaults",
			files:  map[string]string{".git/HEAD": "", "logo.png": "", "a.yaml": ""},
			ignore: ptr(""),
			want:   []string{"a.yaml", "logo.png"},
		},
		{
			name:   "negation in spec.ignore",
			files:  map[string]string{"a.yaml": "", "keep.yaml": "", "sub/keep.yaml": "", "b.txt": ""},
			ignore: ptr("# comment\n*.yaml\r\n!keep.yaml\n"),
			want:   []string{"b.txt", "keep.yaml", "sub/keep.yaml"},
		},
		{
			name: "nested .sourceignore files apply to their directory and below",
			files: map[string]string{
				".sourceignore":         "*.txt\n",
				"a.txt":                 "",
				"sub/.sourceignore":     "!important.txt\nlocal.yaml\n",
				"sub/important.txt":     "",
				"sub/b.txt":             "",
				"sub/local.yaml":        "",
				"sub/deeper/local.yaml": "",
				"other/local.yaml":      "",
				"other/important.txt":   "",
			},
			want: []string{".sourceignore", "other/local.yaml", "sub/.sourceignore", "sub/important.txt"},
		},
		{
			name: "anchored patterns are relative to the ignore file's directory",
			files: map[string]string{
				".sourceignore":     "/root.yaml\n",
				"root.yaml":         "",
				"sub/root.yaml":     "",
				"sub/.sourceignore": "/x.yaml\n",
				"sub/x.yaml":        "",
				"sub/y/x.yaml":      "",
				"x.yaml":            "",
			},
			want: []string{".sourceignore", "sub/.sourceignore", "sub/root.yaml", "sub/y/x.yaml", "x.yaml"},
		},
		{
			name: "directory patterns exclude directories, not files of that name",
			files: map[string]string{
				".sourceignore":  "tmp/\n",
				"tmp/a.yaml":     "",
				"sub/tmp/b.yaml": "",
				"file/tmp":       "",
			},
			want: []string{".sourceignore", "file/tmp"},
		},
		{
			name: "spec.ignore overrules .sourceignore",
			files: map[string]string{
				".sourceignore": "*.yaml\n",
				"deploy.yaml":   "",
				"other.yaml":    "",
			},
			ignore: ptr("!deploy.yaml"),
			want:   []string{".sourceignore", "deploy.yaml"},
		},
		{
			name: "double star patterns",
			files: map[string]string{
				".sourceignore":    "**/secrets/**\n",
				"a/secrets/x.yaml": "",
				"secrets/y.yaml":   "",
				"a/public/z.yaml":  "",
			},
			want: []string{".sourceignore", "a/public/z.yaml"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			mkTree(t, root, tc.files)
			filter, err := NewFilter(root, tc.ignore)
			if err != nil {
				t.Fatal(err)
			}
			if got := archivedFiles(t, root, filter); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("archived\n  %v\nwant\n  %v", got, tc.want)
			}
		})
	}
}

func TestLoadIgnoreFilesSkipsExcludedDirectories(t *testing.T) {
	root := t.TempDir()
	mkTree(t, root, map[string]string{
		".sourceignore":        "vendor/\n",
		"a/.sourceignore":      "x\n",
		".git/.sourceignore":   "y\n",
		"vendor/.sourceignore": "z\n",
	})
	ps, err := LoadIgnoreFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	// root and a/ are read; .git/ is skipped by the VCS patterns, vendor/ by the root file.
	if len(ps) != 2 {
		t.Fatalf("got %d patterns, want 2 (root and a/)", len(ps))
	}
}

func TestIgnoreFileSymlinkIsNotFollowed(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(outside, []byte("*.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, IgnoreFile)); err != nil {
		t.Fatal(err)
	}
	mkTree(t, root, map[string]string{"a.yaml": ""})
	filter, err := NewFilter(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := archivedFiles(t, root, filter); !reflect.DeepEqual(got, []string{"a.yaml"}) {
		t.Errorf("got %v", got)
	}
}

func TestBuiltinListsAreCopies(t *testing.T) {
	l := DefaultPatterns()
	l[0] = "changed"
	if DefaultPatterns()[0] == "changed" || strings.Contains(strings.Join(VCSPatterns(), ","), "changed") {
		t.Fatal("built-in lists must not be shared")
	}
	if n := len(DefaultPatterns()); n != 20 {
		t.Errorf("DefaultPatterns has %d entries, want 8 media + 9 CI + 3 Flux = 20", n)
	}
}
