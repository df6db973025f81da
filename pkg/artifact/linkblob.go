package artifact

import (
	"fmt"
	"os"
	"path"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LinkBlob makes an already stored, intact blob (by digest) the .tar.gz artifact of ref
// without rewriting it: objects whose sources resolve to content another object already
// stored (1000 OCIRepositories on one artifact) cost a hard link, not a download and a pack.
// It fails when the blob is missing or damaged; the caller then builds the artifact the
// normal way.
func (s *Storage) LinkBlob(ref ObjectRef, digest string) (*meta.Artifact, error) {
	return s.LinkBlobExt(ref, digest, ".tar.gz")
}

// LinkBlobExt is LinkBlob for artifacts stored with another file extension (".tgz" for Helm
// charts, ".yaml" for indexes): the link is named <hex><ext>.
func (s *Storage) LinkBlobExt(ref ObjectRef, digest, ext string) (*meta.Artifact, error) {
	if !validExt(ext) {
		return nil, fmt.Errorf("linking artifact for %s: invalid file extension %q", ref, ext)
	}
	algo, hexSum, err := ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	if algo != s.algo {
		return nil, fmt.Errorf("blob %s uses %s, storage uses %s", digest, algo, s.algo)
	}
	objDir, err := ref.dir()
	if err != nil {
		return nil, err
	}
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	blob := s.blobPath(algo, hexSum)
	fi, err := os.Lstat(blob)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", digest, err)
	}
	if intact, err := s.blobIntact(blob, hexSum); err != nil || !intact {
		return nil, fmt.Errorf("blob %s is damaged", digest)
	}
	rel := path.Join(objDir, hexSum+ext)
	if err := s.linkBlobAs(blob, rel); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(blob); err == nil {
		s.memo.remember(fi, s.algo, hexSum)
	}
	s.touchStored(rel)
	size := fi.Size()
	return &meta.Artifact{Path: rel, URL: s.URL(rel), Digest: digest, Size: &size, LastUpdateTime: metav1.NewTime(s.now())}, nil
}

// SetArtifactURL rewrites a's URL for the current advertised address, so artifacts recorded
// before an address change stay downloadable.
func (s *Storage) SetArtifactURL(a *meta.Artifact) {
	if a != nil && a.Path != "" {
		a.URL = s.URL(a.Path)
	}
}
