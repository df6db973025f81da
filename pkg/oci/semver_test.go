package oci

import (
	"regexp"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestSelectSemver(t *testing.T) {
	t.Parallel()
	tags := []string{"latest", "1.0.0", "v1.1.0", "1.2.0-rc.1", "1.10.0", "2.0.0", "main-abc123", "1.2", "v2.1.0+build.5", "3.0.0-alpha"}
	tests := []struct {
		name, rng, filter string
		tags              []string
		want, wantErr     string
	}{
		{name: "highest overall, pre-releases excluded", rng: "*", want: "v2.1.0+build.5"},
		{name: "numeric, not lexical, order", rng: "1.x", want: "1.10.0"},
		{name: "leading v", rng: "~1.1", want: "v1.1.0"},
		{name: "pre-releases only when asked", rng: ">=1.2.0-0 <1.3.0", want: "1.2.0-rc.1"},
		{name: "pre-release range", rng: ">=3.0.0-0", want: "3.0.0-alpha"},
		{name: "upper bound", rng: "<2.0.0", want: "1.10.0"},
		{name: "filter applied before the range", rng: "*", filter: `^1\.`, want: "1.10.0"},
		{name: "filter with leading v only", rng: ">=1.0.0", filter: `^v`, want: "v2.1.0+build.5"},
		{name: "non-strict versions never match", rng: "1.2", tags: []string{"1.2", "latest"}, wantErr: "no tag among 2 matches semver range \"1.2\""},
		{name: "same version, stable choice", rng: "1.0.0", tags: []string{"v1.0.0", "1.0.0"}, want: "1.0.0"},
		{name: "nothing satisfies", rng: ">5", wantErr: `no tag among 10 matches semver range ">5"`},
		{name: "nothing matches filter", rng: "*", filter: "^x", wantErr: `with filter "^x"`},
		{name: "no tags", rng: "*", tags: []string{}, wantErr: "no tag among 0"},
		{name: "bad range", rng: "not a range", wantErr: `invalid semver range "not a range"`},
		{name: "bad filter", rng: "*", filter: "(", wantErr: `invalid semver filter "("`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tags
			if tt.tags != nil {
				in = tt.tags
			}
			got, err := SelectSemver(in, tt.rng, tt.filter)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q (got tag %q)", err, tt.wantErr, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("SelectSemver = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzSelectSemver feeds registry-controlled tag lists: no panics, and the winner must be one
// of the tags, satisfy the range and be at least as high as every other satisfying tag.
func FuzzSelectSemver(f *testing.F) {
	f.Add("1.0.0,v1.2.3,latest,2.0.0-rc.1", ">=1.0.0", "")
	f.Add("v0.0.1,0.0.2+meta,0.0.3-x.y", "~0.0", "^v")
	f.Add(",,v,vv1.0.0", "*", ".*")
	f.Fuzz(func(t *testing.T, list, rng, filter string) {
		tags := strings.Split(list, ",")
		got, err := SelectSemver(tags, rng, filter)
		if err != nil {
			return
		}
		c, err := semver.NewConstraint(rng)
		if err != nil {
			t.Fatalf("accepted range %q that does not parse: %v", rng, err)
		}
		gv, err := semver.StrictNewVersion(strings.TrimPrefix(got, "v"))
		if err != nil || !c.Check(gv) {
			t.Fatalf("winner %q does not satisfy %q", got, rng)
		}
		re := regexp.MustCompile(filter) // accepted above, so it compiles
		found := false
		for _, tag := range tags {
			found = found || tag == got
			if !re.MatchString(tag) {
				continue
			}
			v, err := semver.StrictNewVersion(strings.TrimPrefix(tag, "v"))
			if err == nil && c.Check(v) && v.GreaterThan(gv) {
				t.Fatalf("winner %q is lower than %q", got, tag)
			}
		}
		if !found {
			t.Fatalf("winner %q is not among the tags", got)
		}
	})
}
