package artifact

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// A blob stored for one object becomes another object's artifact by a hard link, under the
// extension asked for, and a digest that was never stored is refused.
func TestLinkBlobExt(t *testing.T) {
	s := newTestStorage(t, StorageOptions{})
	content := []byte("chart bytes")
	first := ObjectRef{Kind: "HelmChart", Namespace: "ns", Name: "a"}
	stored, err := s.StoreReader(context.Background(), first, bytes.NewReader(content), ".tgz")
	if err != nil {
		t.Fatal(err)
	}
	second := ObjectRef{Kind: "HelmChart", Namespace: "ns", Name: "b"}
	linked, err := s.LinkBlobExt(second, stored.Digest, ".tgz")
	if err != nil {
		t.Fatal(err)
	}
	if want := "helmchart/ns/b/" + sha256Hex(content) + ".tgz"; linked.Path != want {
		t.Errorf("path %q, want %q", linked.Path, want)
	}
	if linked.Digest != stored.Digest || *linked.Size != int64(len(content)) {
		t.Errorf("linked %s/%d, want %s/%d", linked.Digest, *linked.Size, stored.Digest, len(content))
	}
	a, _ := os.Stat(s.LocalPath(stored))
	b, _ := os.Stat(s.LocalPath(linked))
	if !os.SameFile(a, b) {
		t.Error("the linked artifact is a copy, not a hard link to the blob")
	}
	if err := s.Verify(linked); err != nil {
		t.Errorf("verify linked: %v", err)
	}
	if tarGz, err := s.LinkBlob(ObjectRef{Kind: "OCIRepository", Namespace: "ns", Name: "c"}, stored.Digest); err != nil || !strings.HasSuffix(tarGz.Path, ".tar.gz") {
		t.Errorf("LinkBlob: %v, %v", tarGz, err)
	}
	if _, err := s.LinkBlobExt(second, "sha256:"+sha256Hex([]byte("never stored")), ".tgz"); err == nil {
		t.Error("linking a digest that was never stored succeeded")
	}
	if _, err := s.LinkBlobExt(second, stored.Digest, "/../x"); err == nil || !strings.Contains(err.Error(), "invalid file extension") {
		t.Errorf("bad extension: %v", err)
	}
}
