//go:build unix && !linux && !darwin

package install

// noExec reports whether the directory dfd is on a noexec mount: not known
// on this system.
func noExec(int) bool { return false }
