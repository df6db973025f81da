package tagstore

import (
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSetTagsAndRead(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tags.db"))
	if _, err := s.Tags("ns/app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := s.Revision("ns/app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key revision: %v", err)
	}
	// Unsorted input with a duplicate and an empty tag.
	if err := s.SetTags("ns/app", []string{"1.1.0", "1.0.0", "latest", "1.0.0", ""}, "sha256:one"); err != nil {
		t.Fatal(err)
	}
	tags, err := s.Tags("ns/app")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1.0.0", "1.1.0", "latest"}; !slices.Equal(tags, want) {
		t.Fatalf("tags = %v, want %v", tags, want)
	}
	if n, err := s.Count("ns/app"); err != nil || n != 3 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if rev, err := s.Revision("ns/app"); err != nil || rev != "sha256:one" {
		t.Fatalf("revision = %q, %v", rev, err)
	}
	// Keys do not share tags.
	if err := s.SetTags("other/app", []string{"x"}, "sha256:x"); err != nil {
		t.Fatal(err)
	}
	// Replacement is whole: old tags go away.
	if err := s.SetTags("ns/app", []string{"2.0.0"}, "sha256:two"); err != nil {
		t.Fatal(err)
	}
	if tags, _ := s.Tags("ns/app"); !slices.Equal(tags, []string{"2.0.0"}) {
		t.Fatalf("after replace: %v", tags)
	}
	if tags, _ := s.Tags("other/app"); !slices.Equal(tags, []string{"x"}) {
		t.Fatalf("other key: %v", tags)
	}
	// An empty scan is stored as empty, not as missing.
	if err := s.SetTags("ns/empty", nil, "sha256:none"); err != nil {
		t.Fatal(err)
	}
	if tags, err := s.Tags("ns/empty"); err != nil || len(tags) != 0 {
		t.Fatalf("empty: %v, %v", tags, err)
	}
	if err := s.Delete("ns/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tags("ns/app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.Delete("ns/app"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := s.SetTags("", []string{"a"}, ""); err == nil {
		t.Fatal("empty key accepted")
	}
}

func TestViewStopsEarly(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tags.db"))
	if err := s.SetTags("k", []string{"a", "b", "c", "d"}, "r"); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.View("k", func(tags iter.Seq[string]) error {
		for tag := range tags {
			got = append(got, tag)
			if tag == "b" {
				break
			}
		}
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	boom := errors.New("boom")
	if err := s.View("k", func(iter.Seq[string]) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("View error = %v", err)
	}
}

func TestDigests(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tags.db"))
	if err := s.SetTags("k", []string{"1.0.0", "1.1.0"}, "r1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Digest("k", "1.0.0"); ok || err != nil {
		t.Fatalf("uncached digest: %v %v", ok, err)
	}
	for tag, d := range map[string]string{"1.0.0": "sha256:aaa", "1.1.0": "sha256:bbb"} {
		if err := s.SetDigest("k", tag, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetDigest("k", "9.9.9", "sha256:ccc"); err == nil {
		t.Fatal("digest of an unknown tag accepted")
	}
	if err := s.SetDigest("missing", "1.0.0", "sha256:ccc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("digest for an unknown key: %v", err)
	}
	// A rescan keeps digests of tags that remain and drops the others.
	if err := s.SetTags("k", []string{"1.1.0", "1.2.0"}, "r2"); err != nil {
		t.Fatal(err)
	}
	if d, ok, _ := s.Digest("k", "1.1.0"); !ok || d != "sha256:bbb" {
		t.Fatalf("kept digest = %q %v", d, ok)
	}
	if _, ok, _ := s.Digest("k", "1.0.0"); ok {
		t.Fatal("digest of a removed tag survived")
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "tags.db")
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	tags := manyTags(100_000)
	if err := s.SetTags("flux-system/podinfo", tags, "sha256:big"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDigest("flux-system/podinfo", tags[42], "sha256:42"); err != nil {
		t.Fatal(err)
	}
	// A second process (here: a second Open) cannot take the file while it is held.
	if _, err := Open(path, 50*time.Millisecond); err == nil {
		t.Fatal("opened a database held by another store")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	re := openStore(t, path)
	n, err := re.Count("flux-system/podinfo")
	if err != nil || n != len(tags) {
		t.Fatalf("count after reopen = %d, %v", n, err)
	}
	got, err := re.Tags("flux-system/podinfo")
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(tags)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatal("tags differ after reopen")
	}
	if rev, _ := re.Revision("flux-system/podinfo"); rev != "sha256:big" {
		t.Fatalf("revision after reopen = %q", rev)
	}
	if d, ok, _ := re.Digest("flux-system/podinfo", tags[42]); !ok || d != "sha256:42" {
		t.Fatalf("digest after reopen = %q %v", d, ok)
	}
}

// manyTags returns n distinct tags in the unsorted order a registry may list them.
func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range n {
		tags[i] = fmt.Sprintf("%d.%d.%d-build.%d", i%7, i%13, i%101, i)
	}
	return tags
}
