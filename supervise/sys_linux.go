package supervise

import (
	"golang.org/x/sys/unix"
)

// becomeSubreaper registers the process as a child subreaper: orphans of
// its descendants are reparented to it instead of to PID 1.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
