//go:build linux

package artifact

import (
	"os"
	"syscall"
)

// identify returns the inode identity of a file, a stamp that changes whenever its content
// may have changed (size, mtime, ctime: ctime cannot be set from user space, so even a
// rewrite that restores mtime is noticed), and its hard link count.
func identify(fi os.FileInfo) (id fileID, stamp fileStamp, nlink uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, fileStamp{}, 0, false
	}
	id = fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
	stamp = fileStamp{
		size:  st.Size,
		mtime: int64(st.Mtim.Sec)*1e9 + int64(st.Mtim.Nsec),
		ctime: int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec),
	}
	return id, stamp, uint64(st.Nlink), true
}
