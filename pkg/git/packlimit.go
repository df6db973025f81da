package git

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// ObjectTooLargeError reports a file (or other object) in a repository over the size limit.
type ObjectTooLargeError struct {
	Size, Limit int64
}

func (e *ObjectTooLargeError) Error() string {
	return fmt.Sprintf("the repository holds a file of %d bytes, over the size limit of %d bytes", e.Size, e.Limit)
}

// limitedStorage refuses packfiles holding an object over maxObjectSize before go-git
// indexes them: indexing reads every object whole into memory, so a repository with a 1 GiB
// file would cost at least a gigabyte of RAM to clone. The received packfile goes to a
// temporary file first; its object headers (and the target sizes of deltas) are checked
// streaming, then it is handed to the filesystem storage as usual.
type limitedStorage struct {
	*filesystem.Storage
	maxObjectSize int64
	tmpDir        string
}

// PackfileWriter implements storer.PackfileWriter.
func (s *limitedStorage) PackfileWriter() (io.WriteCloser, error) {
	tmp, err := os.CreateTemp(s.tmpDir, "incoming-*.pack")
	if err != nil {
		return nil, err
	}
	return &checkedPackWriter{File: tmp, s: s}, nil
}

type checkedPackWriter struct {
	*os.File
	s *limitedStorage
}

func (w *checkedPackWriter) Close() error {
	defer os.Remove(w.Name())
	defer w.File.Close()
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := checkObjectSizes(w.File, w.s.maxObjectSize); err != nil {
		return err
	}
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return err
	}
	next, err := w.s.Storage.PackfileWriter()
	if err != nil {
		return err
	}
	if _, err := io.Copy(next, w.File); err != nil {
		next.Close()
		return err
	}
	return next.Close()
}

// checkObjectSizes reads the packfile in r and fails on the first object whose (resolved)
// size is over limit, without holding any object in memory.
func checkObjectSizes(r io.Reader, limit int64) error {
	sc := packfile.NewScanner(r)
	_, count, err := sc.Header()
	if err != nil {
		return err
	}
	for range count {
		oh, err := sc.NextObjectHeader()
		if err != nil {
			return err
		}
		size := oh.Length
		if oh.Type == plumbing.OFSDeltaObject || oh.Type == plumbing.REFDeltaObject {
			// A delta's length is that of its instructions; the object it builds is as
			// large as the delta header's target size.
			var h deltaHeader
			if _, _, err := sc.NextObject(&h); err != nil {
				return err
			}
			if size, err = h.targetSize(); err != nil {
				return err
			}
		} else if size <= limit {
			if _, _, err := sc.NextObject(io.Discard); err != nil {
				return err
			}
		}
		if size > limit {
			return &ObjectTooLargeError{Size: size, Limit: limit}
		}
	}
	return nil
}

// deltaHeader keeps the first bytes of a delta: two varints, the source and target sizes.
type deltaHeader struct{ buf []byte }

func (h *deltaHeader) Write(p []byte) (int, error) {
	if need := 20 - len(h.buf); need > 0 {
		h.buf = append(h.buf, p[:min(need, len(p))]...)
	}
	return len(p), nil
}

func (h *deltaHeader) targetSize() (int64, error) {
	b := h.buf
	var sizes [2]int64
	for n := range sizes {
		var v int64
		var shift uint
		for {
			if len(b) == 0 || shift > 56 {
				return 0, errors.New("corrupt delta header in packfile")
			}
			c := b[0]
			b = b[1:]
			v |= int64(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
		sizes[n] = v
	}
	return sizes[1], nil
}
