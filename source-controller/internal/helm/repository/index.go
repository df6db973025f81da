package repository

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"gotk.dev/source-controller/internal/helm"
)

// IndexError reports an index that could not be parsed or is not a Helm repository index
// (condition reason IndexationFailed).
type IndexError struct {
	Source string // where the index came from: its URL or file
	Err    error
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("invalid Helm repository index from '%s': %s", e.Source, e.Err)
}

func (e *IndexError) Unwrap() error { return e.Err }

// SkippedEntry is an index entry dropped because helm considers it invalid, as `helm repo
// update` does. The reconciler may surface these as a warning.
type SkippedEntry struct {
	Chart   string
	Version string
	Reason  string
}

// Index is a fetched repository index in its normalised form.
type Index struct {
	// File is the parsed, validated index with every chart's versions sorted newest first.
	// Callers share it (e.g. through the index cache) and must not modify it.
	File *repo.IndexFile
	// JSON is the stored artifact: File serialised deterministically (JSON is valid YAML,
	// helm reads it as index.yaml). Two servers serving the same entries in a different order
	// produce the same bytes.
	JSON []byte
	// Revision is "sha256:<hex>" of JSON, the HelmRepository artifact revision: the digest of
	// the index after stable sorting of its entries, as upstream documents it.
	Revision string
	// FetchedSize is the size of the index as served, in bytes.
	FetchedSize int64
	// Skipped lists the entries dropped as invalid.
	Skipped []SkippedEntry
}

// ParseIndex parses an index (YAML or JSON) the way helm loads one: strictly, dropping entries
// that fail helm's validation, defaulting each entry's apiVersion to v1, and requiring the
// index's apiVersion. Entries are then sorted newest first, ties broken deterministically.
// source names the index in errors.
func ParseIndex(data []byte, source string) (*repo.IndexFile, []SkippedEntry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &IndexError{Source: source, Err: repo.ErrEmptyIndexYaml}
	}
	idx, err := decodeIndex(data)
	if err != nil {
		return nil, nil, &IndexError{Source: source, Err: err}
	}
	if idx.APIVersion == "" {
		return nil, nil, &IndexError{Source: source, Err: repo.ErrNoAPIVersion}
	}
	var skipped []SkippedEntry
	for name, versions := range idx.Entries {
		kept := versions[:0]
		for _, cv := range versions {
			if reason := invalidEntry(cv); reason != "" {
				s := SkippedEntry{Chart: name, Reason: reason}
				if cv != nil && cv.Metadata != nil {
					s.Version = cv.Version
				}
				skipped = append(skipped, s)
				continue
			}
			kept = append(kept, cv)
		}
		idx.Entries[name] = kept
	}
	if idx.Entries == nil {
		idx.Entries = map[string]repo.ChartVersions{}
	}
	sortEntries(idx)
	sort.Slice(skipped, func(i, j int) bool {
		if skipped[i].Chart != skipped[j].Chart {
			return skipped[i].Chart < skipped[j].Chart
		}
		return skipped[i].Version < skipped[j].Version
	})
	return idx, skipped, nil
}

// decodeIndex decodes JSON (what we store, and much faster to read) or YAML like helm: data
// that is valid JSON is read as JSON, anything else as strict YAML. JSON is tried directly
// when the data starts with '{' (a JSON syntax error means it was not valid JSON), which
// saves helm's separate validation pass over indexes of tens of megabytes.
func decodeIndex(data []byte) (*repo.IndexFile, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		idx := &repo.IndexFile{}
		err := json.Unmarshal(data, idx)
		var syntaxErr *json.SyntaxError
		if !errors.As(err, &syntaxErr) {
			return idx, err
		}
	}
	idx := &repo.IndexFile{}
	return idx, yaml.UnmarshalStrict(data, idx)
}

// invalidEntry applies helm's per-entry validation (pkg/repo's loader rules) and returns why
// the entry is dropped, or "" to keep it.
func invalidEntry(cv *repo.ChartVersion) string {
	if cv == nil {
		return "empty entry"
	}
	if cv.Metadata == nil {
		cv.Metadata = &chart.Metadata{}
	}
	if cv.APIVersion == "" {
		cv.APIVersion = chart.APIVersionV1
	}
	err := cv.Validate()
	if err == nil {
		return ""
	}
	// Helm keeps entries whose only fault is a duplicate dependency name or alias (JFrog
	// Artifactory strips aliases from indexes): https://github.com/helm/helm/issues/12748
	var verr chart.ValidationError
	if errors.As(err, &verr) && strings.HasPrefix(verr.Error(), "validation: more than one dependency with name or alias") {
		return ""
	}
	return err.Error()
}

// sortEntries orders each chart's versions newest first, like helm's IndexFile.SortEntries,
// but with a total order so the normalised index does not depend on the order the server
// listed equal versions in: semver (unparsable versions last), then creation time (newest
// first), then the version string, then the digest.
func sortEntries(idx *repo.IndexFile) {
	for _, versions := range idx.Entries {
		parsed := make(map[*repo.ChartVersion]*semver.Version, len(versions))
		for _, cv := range versions {
			if v, err := semver.NewVersion(cv.Version); err == nil {
				parsed[cv] = v
			}
		}
		sort.SliceStable(versions, func(i, j int) bool {
			a, b := versions[i], versions[j]
			va, vb := parsed[a], parsed[b]
			switch {
			case va != nil && vb == nil:
				return true
			case va == nil && vb != nil:
				return false
			case va != nil && !va.Equal(vb):
				return va.GreaterThan(vb)
			}
			if !a.Created.Equal(b.Created) {
				return a.Created.After(b.Created)
			}
			if a.Version != b.Version {
				return a.Version < b.Version
			}
			return a.Digest < b.Digest
		})
	}
}

// NormalizeIndex serialises a parsed index deterministically and computes its revision.
func NormalizeIndex(idx *repo.IndexFile) (data []byte, revision string, err error) {
	// Indented like upstream's stored index, so it stays readable with curl.
	data, err = json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("serialise index: %w", err)
	}
	sum := sha256.Sum256(data)
	return data, "sha256:" + hex.EncodeToString(sum[:]), nil
}

// BuildIndex parses raw index bytes and normalises them (see Index).
func BuildIndex(raw []byte, source string) (*Index, error) {
	file, skipped, err := ParseIndex(raw, source)
	if err != nil {
		return nil, err
	}
	data, rev, err := NormalizeIndex(file)
	if err != nil {
		return nil, err
	}
	return &Index{File: file, JSON: data, Revision: rev, FetchedSize: int64(len(raw)), Skipped: skipped}, nil
}

// LoadIndexFile reads a stored index (the HelmRepository artifact) back, refusing files larger
// than maxSize (0: helm.DefaultMaxIndexSize). It is the loader behind the index cache.
func LoadIndexFile(path string, maxSize int64) (*repo.IndexFile, error) {
	if maxSize <= 0 {
		maxSize = helm.DefaultMaxIndexSize
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("index %s is not a regular file", path)
	}
	data, err := readLimited(f, maxSize, "index "+path, helm.FlagMaxIndexSize)
	if err != nil {
		return nil, err
	}
	idx, _, err := ParseIndex(data, path)
	return idx, err
}

// readLimited reads r to its end, failing with a LimitError once more than limit bytes arrive.
func readLimited(r io.Reader, limit int64, what, flag string) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, &helm.LimitError{What: what, Limit: limit, Flag: flag}
	}
	return buf.Bytes(), nil
}
