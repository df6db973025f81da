package tarball

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scriptTar turns a line-based script into a tarball, so the fuzzer mutates names, types
// and link targets rather than tar checksums. Each line is "<type> <name> [<link or body>]"
// with type f (file), x (executable), d (dir), l (symlink), h (hard link), c (char device),
// p (fifo). A script starting with "z" is gzipped.
func scriptTar(script string) []byte {
	var ents []ent
	for _, line := range strings.Split(script, "\n") {
		fields := strings.SplitN(line, " ", 3)
		if len(fields) < 2 || fields[0] == "" {
			continue
		}
		e := ent{name: fields[1], mode: 0o644}
		if len(fields) == 3 {
			e.link, e.body = fields[2], fields[2]
		}
		switch fields[0][0] {
		case 'f':
			e.typ, e.link = tar.TypeReg, ""
		case 'x':
			e.typ, e.link, e.mode = tar.TypeReg, "", 0o755
		case 'd':
			e.typ, e.body = tar.TypeDir, ""
		case 'l':
			e.typ, e.body = tar.TypeSymlink, ""
		case 'h':
			e.typ, e.body = tar.TypeLink, ""
		case 'c':
			e.typ, e.body = tar.TypeChar, ""
		case 'p':
			e.typ, e.body = tar.TypeFifo, ""
		default:
			continue
		}
		ents = append(ents, e)
	}
	return buildTar(strings.HasPrefix(script, "z"), ents...)
}

// FuzzExtract checks that no input, scripted or raw, makes Extract write outside its
// destination or leave behind a symlink that resolves outside it.
func FuzzExtract(f *testing.F) {
	f.Add("f a hello\nl b a\nd c/\nf c/d x", []byte(nil))
	f.Add("f ../evil x", []byte(nil))
	f.Add("l a /etc\nf a/passwd x", []byte(nil))
	f.Add("l b .\nl a b/..\nf a/outside/secret x", []byte(nil))
	f.Add("z\nd real/\nl a real\nf a/x x", []byte(nil))
	f.Add("f a x\nh b a\nh c ../outside/secret", []byte(nil))
	f.Add("", buildTar(true, file("a", "A"), symlink("l", "../outside")))
	f.Fuzz(func(t *testing.T, script string, raw []byte) {
		for _, data := range [][]byte{scriptTar(script), raw} {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			outside := filepath.Join(parent, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			_ = Extract(bytes.NewReader(data), dest, ExtractOptions{MaxSize: 1 << 20, MaxFiles: 1000})
			assertOutsideUntouched(t, parent)
			assertConfined(t, dest)
		}
	})
}

// assertConfined checks, independently of Extract's own resolver, that dest holds only
// directories, files and symlinks resolving inside dest, with the documented modes.
func assertConfined(t *testing.T, dest string) {
	t.Helper()
	realDest, err := filepath.EvalSymlinks(dest)
	if err != nil {
		return // Extract failed before creating it
	}
	inside := func(p string) bool {
		return p == realDest || strings.HasPrefix(p, realDest+string(filepath.Separator))
	}
	err = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dest {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch m := fi.Mode(); {
		case m.IsDir():
			if m.Perm() != 0o755 {
				t.Errorf("%s: directory mode %v", p, m)
			}
		case m.IsRegular():
			if m.Perm() != 0o644 && m.Perm() != 0o755 {
				t.Errorf("%s: file mode %v", p, m)
			}
		case m&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			if filepath.IsAbs(target) {
				t.Errorf("%s: absolute symlink %q", p, target)
			}
			if resolved, err := filepath.EvalSymlinks(p); err == nil {
				if !inside(resolved) {
					t.Errorf("%s -> %q resolves outside to %s", p, target, resolved)
				}
			} else if !inside(filepath.Join(realDest, mustRel(t, dest, filepath.Dir(p)), target)) {
				t.Errorf("%s -> %q dangles outside", p, target)
			}
		default:
			t.Errorf("%s: unexpected file type %v", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustRel(t *testing.T, base, p string) string {
	t.Helper()
	rel, err := filepath.Rel(base, p)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
