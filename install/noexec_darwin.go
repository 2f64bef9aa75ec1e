package install

import "golang.org/x/sys/unix"

// noExec reports whether the directory dfd is on a noexec mount.
func noExec(dfd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(dfd, &st) == nil && st.Flags&unix.MNT_NOEXEC != 0
}
