package repository

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/repo"

	"gotk.dev/source-controller/internal/helm"
)

// indexYAML has podinfo versions out of order, one entry helm rejects (no version) and two
// equal semver versions differing in build metadata.
const indexYAML = `apiVersion: v1
entries:
  podinfo:
  - name: podinfo
    version: 6.0.0
    created: "2024-01-01T00:00:00Z"
    urls: [charts/podinfo-6.0.0.tgz]
  - name: podinfo
    version: 6.1.0
    created: "2024-02-01T00:00:00Z"
    urls: [charts/podinfo-6.1.0.tgz]
  - name: podinfo
    created: "2024-02-01T00:00:00Z"
    urls: [charts/podinfo-broken.tgz]
  - name: podinfo
    version: 6.2.0-rc.1
    created: "2024-03-01T00:00:00Z"
    urls: [charts/podinfo-6.2.0-rc.1.tgz]
  - name: podinfo
    version: 6.1.0+b
    created: "2024-02-03T00:00:00Z"
    urls: [charts/podinfo-6.1.0+b.tgz]
  - name: podinfo
    version: 6.1.0+a
    created: "2024-02-02T00:00:00Z"
    urls: [charts/podinfo-6.1.0+a.tgz]
  redis:
  - name: redis
    version: 1.0.0
    urls: [https://cdn.example.com/redis-1.0.0.tgz]
generated: "2024-03-01T00:00:00Z"
`

// reversedIndexYAML lists the same entries in another order.
const reversedIndexYAML = `apiVersion: v1
generated: "2024-03-01T00:00:00Z"
entries:
  redis:
  - name: redis
    version: 1.0.0
    urls: [https://cdn.example.com/redis-1.0.0.tgz]
  podinfo:
  - name: podinfo
    version: 6.1.0+a
    created: "2024-02-02T00:00:00Z"
    urls: [charts/podinfo-6.1.0+a.tgz]
  - name: podinfo
    version: 6.1.0+b
    created: "2024-02-03T00:00:00Z"
    urls: [charts/podinfo-6.1.0+b.tgz]
  - name: podinfo
    version: 6.2.0-rc.1
    created: "2024-03-01T00:00:00Z"
    urls: [charts/podinfo-6.2.0-rc.1.tgz]
  - name: podinfo
    created: "2024-02-01T00:00:00Z"
    urls: [charts/podinfo-broken.tgz]
  - name: podinfo
    version: 6.1.0
    created: "2024-02-01T00:00:00Z"
    urls: [charts/podinfo-6.1.0.tgz]
  - name: podinfo
    version: 6.0.0
    created: "2024-01-01T00:00:00Z"
    urls: [charts/podinfo-6.0.0.tgz]
`

func TestBuildIndexNormalises(t *testing.T) {
	a, err := BuildIndex([]byte(indexYAML), "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildIndex([]byte(reversedIndexYAML), "b")
	if err != nil {
		t.Fatal(err)
	}
	if string(a.JSON) != string(b.JSON) || a.Revision != b.Revision {
		t.Fatalf("the same entries in another order normalise differently:\n%s\n---\n%s", a.JSON, b.JSON)
	}
	sum := sha256.Sum256(a.JSON)
	if want := "sha256:" + hex.EncodeToString(sum[:]); a.Revision != want {
		t.Fatalf("revision = %s, want sha256 of the stored JSON %s", a.Revision, want)
	}
	if !json.Valid(a.JSON) {
		t.Fatal("stored index is not JSON")
	}
	var got []string
	for _, cv := range a.File.Entries["podinfo"] {
		got = append(got, cv.Version)
	}
	if want := "6.2.0-rc.1 6.1.0+b 6.1.0+a 6.1.0 6.0.0"; strings.Join(got, " ") != want {
		t.Errorf("podinfo versions = %v, want %s (newest first, equal versions by creation time)", got, want)
	}
	if len(a.Skipped) != 1 || a.Skipped[0].Chart != "podinfo" || !strings.Contains(a.Skipped[0].Reason, "version is required") {
		t.Errorf("skipped = %+v, want the podinfo entry without version", a.Skipped)
	}
	if a.FetchedSize != int64(len(indexYAML)) {
		t.Errorf("FetchedSize = %d, want %d", a.FetchedSize, len(indexYAML))
	}

	// The stored JSON reads back (through the JSON fast path) to the same index and revision.
	again, err := BuildIndex(a.JSON, "stored")
	if err != nil {
		t.Fatal(err)
	}
	if again.Revision != a.Revision {
		t.Fatalf("re-normalising the stored index changed its revision: %s -> %s", a.Revision, again.Revision)
	}
}

func TestParseIndexErrors(t *testing.T) {
	cases := map[string]struct {
		data string
		want error
		msg  string
	}{
		"empty":          {data: "  \n", want: repo.ErrEmptyIndexYaml},
		"no apiVersion":  {data: "entries: {}\n", want: repo.ErrNoAPIVersion},
		"not yaml":       {data: "apiVersion: v1\nentries: [\n", msg: "yaml"},
		"unknown field":  {data: "apiVersion: v1\nentries: {}\nbogus: 1\n", msg: `unknown field "bogus"`},
		"entries a list": {data: "apiVersion: v1\nentries: [1, 2]\n", msg: "cannot unmarshal"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := ParseIndex([]byte(tc.data), "https://example.com/index.yaml")
			var ie *IndexError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want *IndexError", err)
			}
			if !strings.Contains(err.Error(), "https://example.com/index.yaml") {
				t.Errorf("error %q does not name the source", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestLoadIndexFile(t *testing.T) {
	idx, err := BuildIndex([]byte(indexYAML), "x")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "index.yaml")
	if err := os.WriteFile(p, idx.JSON, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadIndexFile(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries["podinfo"]) != 5 {
		t.Fatalf("loaded %d podinfo entries, want 5", len(got.Entries["podinfo"]))
	}

	_, err = LoadIndexFile(p, 100)
	var le *helm.LimitError
	if !errors.As(err, &le) || le.Limit != 100 || !strings.Contains(err.Error(), "--helm-index-max-size") {
		t.Fatalf("error = %v, want a LimitError of 100 bytes naming --helm-index-max-size", err)
	}

	if _, err := LoadIndexFile(dir, 0); err == nil {
		t.Fatal("loading a directory succeeded")
	}
}

func TestSelectVersion(t *testing.T) {
	idx, err := BuildIndex([]byte(indexYAML), "x")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		chart, version string
		want           string // selected version; empty when an error is expected
		err            string
	}{
		{chart: "podinfo", version: "", want: "6.1.0+b"},
		{chart: "podinfo", version: "*", want: "6.1.0+b"},
		{chart: "podinfo", version: "6.0.x", want: "6.0.0"},
		{chart: "podinfo", version: "<6.1.0", want: "6.0.0"},
		{chart: "podinfo", version: ">=6.2.0-0", want: "6.2.0-rc.1"},
		{chart: "podinfo", version: "6.1.0+a", want: "6.1.0+a"}, // exact string match wins
		{chart: "podinfo", version: "6.1.0", want: "6.1.0"},     // exact match before the range
		{chart: "podinfo", version: "~6.1", want: "6.1.0+b"},    // newest of the equal versions
		{chart: "podinfo", version: "7.x", err: "no 'podinfo' chart with version matching '7.x' found"},
		{chart: "podinfo", version: "not a range!", err: "invalid semver range"},
		{chart: "nginx", version: "*", err: "no chart named 'nginx' in the repository index"},
	}
	for _, tc := range cases {
		cv, err := SelectVersion(idx.File, tc.chart, tc.version)
		if tc.err != "" {
			var nf *ChartNotFoundError
			if !errors.As(err, &nf) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SelectVersion(%s, %q) error = %v, want ChartNotFoundError containing %q", tc.chart, tc.version, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("SelectVersion(%s, %q): %v", tc.chart, tc.version, err)
			continue
		}
		if cv.Version != tc.want {
			t.Errorf("SelectVersion(%s, %q) = %s, want %s", tc.chart, tc.version, cv.Version, tc.want)
		}
	}
}

func TestParseIndexJSONAndFlowYAML(t *testing.T) {
	for name, data := range map[string]string{
		"json":             `{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","urls":["a.tgz"]}]}}`,
		"yaml flow map":    `{apiVersion: v1, entries: {a: [{name: a, version: 1.0.0, urls: [a.tgz]}]}}`,
		"json with spaces": "\n  {\"apiVersion\":\"v1\",\"entries\":{\"a\":[{\"name\":\"a\",\"version\":\"1.0.0\",\"urls\":[\"a.tgz\"]}]}}",
	} {
		idx, _, err := ParseIndex([]byte(data), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(idx.Entries["a"]) != 1 {
			t.Errorf("%s: entries = %v", name, idx.Entries)
		}
	}
	if _, _, err := ParseIndex([]byte(`{"apiVersion":"v1","entries":[]}`), "x"); err == nil {
		t.Error("valid JSON of the wrong shape parsed")
	}
}
