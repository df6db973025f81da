package plugin

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// maxDownload bounds a plugin download.
const maxDownload = 512 << 20

// Install downloads the platform's file, checks its checksum, takes the binary out of it
// (a .tar.gz, .tar or .zip archive, or the file itself) and installs it as the manifest's
// Bin in dir, replacing an older one atomically, then writes the receipt.
func Install(ctx context.Context, hc *http.Client, dir string, m *Manifest, v *Version, p *Platform) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create plugin directory: %w", err)
	}
	data, err := download(ctx, hc, p)
	if err != nil {
		return err
	}
	bin := m.Bin
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	target := p.ExtractPath
	if target == "" {
		target = bin
	}
	content, err := extract(data, p.URL, target)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".install-"+m.Name+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, bin)); err != nil {
		return fmt.Errorf("install %s: %w", bin, err)
	}
	return writeReceipt(dir, Receipt{Name: m.Name, Version: v.Version, Platform: *p})
}

// download fetches p.URL and verifies it against p.Checksum.
func download(ctx context.Context, hc *http.Client, p *Platform) ([]byte, error) {
	algo, want, ok := strings.Cut(p.Checksum, ":")
	if !ok || algo != "sha256" || len(want) != 64 {
		return nil, fmt.Errorf("unsupported checksum %q (want sha256:<hex>)", p.Checksum)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to download plugin: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to download plugin from %s: HTTP %d", p.URL, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("failed to download plugin: %w", err)
	}
	if len(data) > maxDownload {
		return nil, fmt.Errorf("plugin download from %s is larger than %d bytes", p.URL, maxDownload)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != strings.ToLower(want) {
		return nil, fmt.Errorf("checksum verification failed (expected: %s, got: sha256:%s)", p.Checksum, got)
	}
	return data, nil
}

// extract returns the binary: the archive entry named target (an exact path when it has a
// slash, else the first regular file with that base name), or data itself when it is no
// archive. Entries outside the archive root are ignored.
func extract(data []byte, url, target string) ([]byte, error) {
	lower := strings.ToLower(url)
	switch {
	case strings.HasSuffix(lower, ".zip") || bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return fromZip(data, target)
	case strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") || bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("failed to read gzip: %w", err)
		}
		return fromTar(gz, target)
	case strings.HasSuffix(lower, ".tar") || (len(data) > 262 && string(data[257:262]) == "ustar"):
		return fromTar(bytes.NewReader(data), target)
	}
	return data, nil
}

func matches(entry, target string) bool {
	if strings.Contains(target, "/") {
		return path.Clean(entry) == path.Clean(target)
	}
	return path.Base(entry) == target
}

func fromTar(r io.Reader, target string) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("binary %q not found in archive", target)
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read tar: %w", err)
		}
		if !filepath.IsLocal(h.Name) || h.Typeflag != tar.TypeReg || !matches(h.Name, target) {
			continue
		}
		return io.ReadAll(io.LimitReader(tr, maxDownload))
	}
}

func fromZip(data []byte, target string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("failed to open zip: %w", err)
	}
	for _, f := range zr.File {
		if !filepath.IsLocal(f.Name) || !f.Mode().IsRegular() || !matches(f.Name, target) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxDownload))
	}
	return nil, fmt.Errorf("binary %q not found in archive", target)
}

// Uninstall removes a plugin's executable and its receipt.
func Uninstall(dir, name string) error {
	bin := Prefix + name
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	p := filepath.Join(dir, bin)
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("plugin %q is not installed", name)
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("failed to remove plugin binary: %w", err)
	}
	if err := os.Remove(receiptPath(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("failed to remove plugin receipt: %w", err)
	}
	return nil
}
