package policy

import (
	"errors"
	"iter"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/tagstore"
)

func semverSpec(rng string) imagev1.ImagePolicySpec {
	return imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: rng}}}
}

func alphaSpec(order string) imagev1.ImagePolicySpec {
	return imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: order}}}
}

func numSpec(order string) imagev1.ImagePolicySpec {
	return imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: order}}}
}

func withFilter(s imagev1.ImagePolicySpec, pattern, extract string) imagev1.ImagePolicySpec {
	s.FilterTags = &imagev1.TagFilter{Pattern: pattern, Extract: extract}
	return s
}

func TestLatest(t *testing.T) {
	tests := []struct {
		name    string
		spec    imagev1.ImagePolicySpec
		tags    []string
		want    string
		wantErr string
	}{
		{name: "semver highest", spec: semverSpec(">=1.0.0"),
			tags: []string{"1.0.0", "1.10.0", "1.9.3", "latest", "2.0.0-rc.1", "main-abc"}, want: "1.10.0"},
		{name: "semver range", spec: semverSpec("5.0.x"),
			tags: []string{"5.0.1", "5.0.3", "5.1.0", "4.9.9", "v5.0.2"}, want: "5.0.3"},
		{name: "semver v prefix", spec: semverSpec("^1"),
			tags: []string{"v1.2.0", "v1.10.1", "v2.0.0"}, want: "v1.10.1"},
		{name: "semver prerelease with range that allows it", spec: withFilter(semverSpec("^1.x-0"), ".*-rc.*", ""),
			tags: []string{"1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.2.0"}, want: "1.1.0-rc.2"},
		{name: "semver equal versions pick the greater tag", spec: semverSpec("*"),
			tags: []string{"v1.0.0", "1.0.0"}, want: "v1.0.0"},
		{name: "semver nothing in range", spec: semverSpec("9.x"),
			tags: []string{"1.0.0", "2.0.0"}, wantErr: "none of 2 tags matches semver range '9.x'"},
		{name: "alphabetical asc", spec: alphaSpec(""),
			tags: []string{"RELEASE.2021-01-01", "RELEASE.2023-05-01", "RELEASE.2022-12-31"}, want: "RELEASE.2023-05-01"},
		{name: "alphabetical desc", spec: alphaSpec("desc"),
			tags: []string{"b", "a", "c"}, want: "a"},
		{name: "alphabetical with extract", spec: withFilter(alphaSpec("asc"), `^RELEASE\.(?P<timestamp>.*)Z$`, "$timestamp"),
			tags: []string{"RELEASE.2021-01-01T00-00-00Z", "RELEASE.2023-01-01T00-00-00Z", "latest", "RELEASE.2022-01-01T00-00-00Z"},
			want: "RELEASE.2023-01-01T00-00-00Z"},
		{name: "numerical asc", spec: numSpec("asc"),
			tags: []string{"9", "10", "100", "99.5"}, want: "100"},
		{name: "numerical desc", spec: numSpec("desc"),
			tags: []string{"9", "10", "-3", "1e3"}, want: "-3"},
		{name: "numerical with extract", spec: withFilter(numSpec(""), `^main-[a-f0-9]+-(?P<ts>\d+)$`, "$ts"),
			tags: []string{"main-abc123-1700000001", "main-def456-1700000300", "main-0a0a0a-1699999999", "latest", "1.0.0"},
			want: "main-def456-1700000300"},
		{name: "numerical rejects non-numbers", spec: numSpec("asc"),
			tags: []string{"1", "latest"}, wantErr: "failed to parse invalid numeric value 'latest'"},
		{name: "numerical extract that keeps a hyphen", spec: withFilter(numSpec("asc"), `^(?P<ts>\d{8}-\d{6})-[a-f0-9]+$`, "$ts"),
			tags: []string{"20260528-153652-abc"}, wantErr: "failed to parse invalid numeric value '20260528-153652'"},
		{name: "filter excludes everything", spec: withFilter(alphaSpec(""), "^nomatch$", ""),
			tags: []string{"a", "b"}, wantErr: "none of 2 tags matches alphabetical order asc with filter pattern '^nomatch$'"},
		{name: "filter without extract keeps the tag", spec: withFilter(semverSpec(">=0"), `^v\d`, ""),
			tags: []string{"v1.0.0", "2.0.0"}, want: "v1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			// Order must not matter.
			for _, tags := range [][]string{tt.tags, reversed(tt.tags)} {
				got, err := p.Latest(slices.Values(tags))
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want %q", err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Fatalf("latest of %v = %q, want %q", tags, got, tt.want)
				}
			}
		})
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func TestNoTags(t *testing.T) {
	p, err := New(semverSpec("*"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Latest(slices.Values([]string{})); !errors.Is(err, ErrNoTags) {
		t.Fatalf("err = %v", err)
	}
}

func TestInvalidSpec(t *testing.T) {
	tests := []struct {
		name  string
		spec  imagev1.ImagePolicySpec
		field string
	}{
		{name: "no policy", spec: imagev1.ImagePolicySpec{}, field: ".spec.policy"},
		{name: "two policies", spec: imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{
			SemVer: &imagev1.SemVerPolicy{Range: "*"}, Numerical: &imagev1.NumericalPolicy{}}}, field: ".spec.policy"},
		{name: "bad range", spec: semverSpec("not a range"), field: ".spec.policy.semver.range"},
		{name: "bad alphabetical order", spec: alphaSpec("up"), field: ".spec.policy.alphabetical.order"},
		{name: "bad numerical order", spec: numSpec("down"), field: ".spec.policy.numerical.order"},
		{name: "bad pattern", spec: withFilter(semverSpec("*"), "([", ""), field: ".spec.filterTags.pattern"},
		{name: "extract without pattern", spec: withFilter(semverSpec("*"), "", "$ts"), field: ".spec.filterTags.extract"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.spec)
			var se *SpecError
			if !errors.As(err, &se) || se.Field != tt.field || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want a SpecError for %s", err, tt.field)
			}
		})
	}
}

// TestLatestFromStore evaluates a policy over tags streamed from the tag store.
func TestLatestFromStore(t *testing.T) {
	store, err := tagstore.Open(filepath.Join(t.TempDir(), "tags.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var tags []string
	for major := range 20 {
		for minor := range 50 {
			tags = append(tags, "v"+strconv.Itoa(major)+"."+strconv.Itoa(minor)+".0", "build-"+strconv.Itoa(major*50+minor))
		}
	}
	if err := store.SetTags("ns/app", tags, "r"); err != nil {
		t.Fatal(err)
	}
	cases := map[*imagev1.ImagePolicySpec]string{
		ptr(semverSpec("<10")): "v9.49.0",
		ptr(withFilter(numSpec(""), `^build-(?P<n>\d+)$`, "$n")): "build-999",
		ptr(withFilter(alphaSpec("desc"), `^v1\.`, "")):          "v1.0.0",
	}
	for spec, want := range cases {
		p, err := New(*spec)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = store.View("ns/app", func(all iter.Seq[string]) error {
			var err error
			got, err = p.Latest(all)
			return err
		})
		if err != nil || got != want {
			t.Fatalf("%s: got %q, %v; want %q", p, got, err, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
