package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	helmchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"gotk.dev/source-controller/internal/helm"
)

// UnsafeEntryError reports a chart archive entry that could write or read outside the chart:
// an absolute path, a ".." element, a link or a device.
type UnsafeEntryError struct {
	Entry  string
	Reason string
}

func (e *UnsafeEntryError) Error() string {
	return fmt.Sprintf("chart archive entry '%s' %s", e.Entry, e.Reason)
}

var drivePath = regexp.MustCompile(`^[a-zA-Z]:`)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// LoadArchive loads a packaged chart (.tgz) from untrusted bytes. Before helm's loader sees a
// file, every entry is checked: absolute paths, ".." elements, symlinks, hard links and other
// non-regular entries are refused with an error naming the entry; a file larger than
// Limits.MaxChartFileSize or a chart unpacking to more than Limits.MaxDecompressedChartSize is
// refused with a *helm.LimitError. Files are then handed to helm's loader.LoadFiles, which
// parses Chart.yaml, values, templates and bundled dependencies exactly as helm does.
func LoadArchive(data []byte, limits helm.Limits) (*helmchart.Chart, error) {
	limits = limits.WithDefaults()
	budget := limits.MaxDecompressedChartSize
	files, err := archiveFiles(data, limits, &budget)
	if err != nil {
		return nil, err
	}
	if err := checkNestedArchives(files, limits, &budget, 0); err != nil {
		return nil, err
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load chart archive: %w", err)
	}
	return c, nil
}

// archiveFiles unpacks the archive in memory the way helm's loader.LoadArchiveFiles does (the
// first path element, the chart directory, is stripped; "\" counts as a separator), with the
// checks of LoadArchive. budget is what the unpacked files may still take, shared with the
// archives nested in this one.
func archiveFiles(data []byte, limits helm.Limits, budget *int64) ([]*loader.BufferedFile, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart archive is not gzip-compressed: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var files []*loader.BufferedFile
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read chart archive: %w", err)
		}
		name, err := entryName(hdr)
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeXHeader, tar.TypeXGlobalHeader:
			continue
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // TypeRegA: old archivers write it
		case tar.TypeSymlink:
			return nil, &UnsafeEntryError{Entry: hdr.Name, Reason: fmt.Sprintf("is a symlink (to '%s'): links are not allowed in charts", hdr.Linkname)}
		case tar.TypeLink:
			return nil, &UnsafeEntryError{Entry: hdr.Name, Reason: "is a hard link: links are not allowed in charts"}
		default:
			return nil, &UnsafeEntryError{Entry: hdr.Name, Reason: fmt.Sprintf("is not a regular file (type %q)", hdr.Typeflag)}
		}
		if name == "" {
			return nil, &UnsafeEntryError{Entry: hdr.Name, Reason: "is not inside the chart directory"}
		}
		what := fmt.Sprintf("chart file '%s'", hdr.Name)
		if hdr.Size > limits.MaxChartFileSize {
			return nil, chartFileLimit(what, limits.MaxChartFileSize)
		}
		if hdr.Size > *budget {
			return nil, &helm.LimitError{What: "unpacked chart", Limit: limits.MaxDecompressedChartSize}
		}
		// The header size is trusted only as far as the limit reader goes.
		body, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		*budget -= int64(len(body))
		files = append(files, &loader.BufferedFile{Name: name, Data: bytes.TrimPrefix(body, utf8BOM)})
	}
	if len(files) == 0 {
		return nil, errors.New("chart archive holds no files")
	}
	return files, nil
}

// maxNesting bounds how deep dependency archives may nest (charts/a.tgz holding
// charts/b.tgz ...), so a chart cannot recurse its way past the checks.
const maxNesting = 10

// checkNestedArchives applies the archive checks to the dependency archives helm's loader
// would unpack next: charts/<name>.tgz files (also inside unpacked subchart directories),
// recursively. Helm's own loader only refuses absolute and ".." paths in them.
func checkNestedArchives(files []*loader.BufferedFile, limits helm.Limits, budget *int64, depth int) error {
	for _, f := range files {
		base := path.Base(f.Name)
		if path.Ext(base) != ".tgz" || path.Base(path.Dir(f.Name)) != "charts" || strings.IndexAny(base, "_.") == 0 {
			continue
		}
		if depth >= maxNesting {
			return fmt.Errorf("dependency archive '%s' is nested more than %d levels deep", f.Name, maxNesting)
		}
		inner, err := archiveFiles(f.Data, limits, budget)
		if err == nil {
			err = checkNestedArchives(inner, limits, budget, depth+1)
		}
		if err != nil {
			return fmt.Errorf("dependency archive '%s': %w", f.Name, err)
		}
	}
	return nil
}

// entryName returns the path of an entry inside the chart directory ("" for the directory
// itself or files next to it), refusing absolute paths and ".." elements.
func entryName(hdr *tar.Header) (string, error) {
	n := strings.ReplaceAll(hdr.Name, `\`, "/")
	if path.IsAbs(n) || drivePath.MatchString(n) {
		return "", &UnsafeEntryError{Entry: hdr.Name, Reason: "has an absolute path"}
	}
	for _, elem := range strings.Split(n, "/") {
		if elem == ".." {
			return "", &UnsafeEntryError{Entry: hdr.Name, Reason: "has a '..' path element"}
		}
	}
	_, rest, _ := strings.Cut(strings.TrimPrefix(n, "./"), "/")
	rest = strings.TrimSuffix(path.Clean("/"+rest), "/")
	return strings.TrimPrefix(rest, "/"), nil
}

func chartFileLimit(what string, limit int64) error {
	return &helm.LimitError{What: what, Limit: limit, Flag: helm.FlagMaxChartFileSize}
}
