//go:build unix

package n8n

import (
	"io/fs"
	"os"
	"syscall"
)

// chownLike gives f the owner and group of old when running as root, so
// that n8n, started as another user (older images ran su-exec node), can
// still read the rewritten settings file. Other users cannot change owners
// and need not: the file they write is theirs, as the old one was.
func chownLike(f *os.File, old fs.FileInfo) error {
	if os.Geteuid() != 0 || old == nil {
		return nil
	}
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
