package chart

import (
	"archive/tar"
	"errors"
	"strings"
	"testing"

	"gotk.dev/source-controller/internal/helm"

	"gotk.dev/internal/testing/helmrepo"
)

func TestLoadArchivePodinfo(t *testing.T) {
	data := helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.1.0")
	c, err := LoadArchive(data, helm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := loadTgz(t, data)
	if c.Name() != "podinfo" || c.Metadata.Version != "6.1.0" || len(c.Templates) != len(want.Templates) || len(c.Templates) == 0 {
		t.Fatalf("loaded %s %s with %d templates, helm loads %d", c.Name(), c.Metadata.Version, len(c.Templates), len(want.Templates))
	}
}

func TestLoadArchiveRejectsUnsafeEntries(t *testing.T) {
	cases := []struct {
		name  string
		entry tarEntry
		want  string
	}{
		{"parent path", tarEntry{name: "../evil.yaml", body: "x"}, "entry '../evil.yaml' has a '..' path element"},
		{"parent inside chart", tarEntry{name: "demo/templates/../../evil.yaml", body: "x"}, "entry 'demo/templates/../../evil.yaml' has a '..' path element"},
		{"benign-looking parent", tarEntry{name: "demo/templates/../values.yaml", body: "x"}, "has a '..' path element"},
		{"windows parent", tarEntry{name: `demo\..\..\evil.yaml`, body: "x"}, "has a '..' path element"},
		{"absolute", tarEntry{name: "/etc/evil.yaml", body: "x"}, "entry '/etc/evil.yaml' has an absolute path"},
		{"drive letter", tarEntry{name: "C:/evil.yaml", body: "x"}, "has an absolute path"},
		{"symlink", tarEntry{name: "demo/templates/passwd.yaml", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}, "entry 'demo/templates/passwd.yaml' is a symlink (to '/etc/passwd')"},
		{"hard link", tarEntry{name: "demo/templates/h.yaml", typeflag: tar.TypeLink, linkname: "demo/values.yaml"}, "entry 'demo/templates/h.yaml' is a hard link"},
		{"device", tarEntry{name: "demo/dev", typeflag: tar.TypeChar}, "entry 'demo/dev' is not a regular file"},
		{"file outside the chart directory", tarEntry{name: "Chart.yaml", body: "x"}, "entry 'Chart.yaml' is not inside the chart directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadArchive(makeTgz(t, minimalChart(tc.entry)...), helm.Limits{})
			var ue *UnsafeEntryError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want an UnsafeEntryError containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadArchiveLimits(t *testing.T) {
	big := strings.Repeat("x", 2000)
	_, err := LoadArchive(makeTgz(t, minimalChart(tarEntry{name: "demo/files/big.txt", body: big})...), helm.Limits{MaxChartFileSize: 1000})
	wantLimit(t, err, helm.FlagMaxChartFileSize, "chart file 'demo/files/big.txt'")

	// Many files under the per-file limit still cannot unpack past the chart limit.
	var entries []tarEntry
	for i := range 20 {
		entries = append(entries, tarEntry{name: "demo/files/f" + strings.Repeat("a", i) + ".txt", body: big})
	}
	_, err = LoadArchive(makeTgz(t, minimalChart(entries...)...), helm.Limits{MaxDecompressedChartSize: 10000})
	var le *helm.LimitError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "unpacked chart exceeds the maximum size of 10000 bytes") {
		t.Fatalf("error = %v, want the unpacked size limit", err)
	}

	// A header claiming more than the archive holds fails cleanly.
	_, err = LoadArchive(makeTgz(t, minimalChart()...)[:60], helm.Limits{})
	if err == nil {
		t.Fatal("a truncated archive loaded")
	}
}

func TestLoadArchiveInvalid(t *testing.T) {
	for name, data := range map[string][]byte{
		"not gzip":      []byte("apiVersion: v2\nname: x\n"),
		"empty archive": makeTgz(t),
		"no Chart.yaml": makeTgz(t, tarEntry{name: "demo/values.yaml", body: "a: 1\n"}),
	} {
		if _, err := LoadArchive(data, helm.Limits{}); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func FuzzLoadArchive(f *testing.F) {
	f.Add(makeTgz(f, minimalChart()...))
	f.Add(makeTgz(f, minimalChart(tarEntry{name: "demo/../x", body: "x"})...))
	f.Add(makeTgz(f, minimalChart(tarEntry{name: "demo/l", typeflag: tar.TypeSymlink, linkname: "/"})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadArchive(data, helm.Limits{MaxChartFileSize: 1 << 16, MaxDecompressedChartSize: 1 << 20})
		if err != nil {
			return
		}
		for _, f := range c.Raw {
			if strings.HasPrefix(f.Name, "/") || strings.Contains("/"+f.Name+"/", "/../") {
				t.Fatalf("loaded a file with an unsafe name %q", f.Name)
			}
		}
	})
}

func TestLoadArchiveChecksNestedDependencyArchives(t *testing.T) {
	evil := makeTgz(t, tarEntry{name: "sub/Chart.yaml", body: "apiVersion: v2\nname: sub\nversion: 1.0.0\n"},
		tarEntry{name: "sub/templates/x.yaml", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"})
	_, err := LoadArchive(makeTgz(t, minimalChart(tarEntry{name: "demo/charts/sub-1.0.0.tgz", body: string(evil)})...), helm.Limits{})
	var ue *UnsafeEntryError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "dependency archive 'charts/sub-1.0.0.tgz': chart archive entry 'sub/templates/x.yaml' is a symlink") {
		t.Fatalf("error = %v", err)
	}

	// A well-formed nested dependency loads.
	good := makeTgz(t, tarEntry{name: "sub/Chart.yaml", body: "apiVersion: v2\nname: sub\nversion: 1.0.0\n"})
	c, err := LoadArchive(makeTgz(t, minimalChart(tarEntry{name: "demo/charts/sub-1.0.0.tgz", body: string(good)})...), helm.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dependencies()) != 1 || c.Dependencies()[0].Name() != "sub" {
		t.Fatalf("dependencies = %v", c.Dependencies())
	}

	// Nesting shares the unpacked-size budget with the outer chart.
	big := makeTgz(t, tarEntry{name: "sub/Chart.yaml", body: "apiVersion: v2\nname: sub\nversion: 1.0.0\n"},
		tarEntry{name: "sub/files/big", body: strings.Repeat("z", 6000)})
	_, err = LoadArchive(makeTgz(t, minimalChart(tarEntry{name: "demo/charts/sub-1.0.0.tgz", body: string(big)})...), helm.Limits{MaxDecompressedChartSize: 5000})
	var le *helm.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("error = %v, want the unpacked size limit", err)
	}
}
