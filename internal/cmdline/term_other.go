//go:build !linux

package cmdline

import "os"

// IsTerminal reports whether f is a character device (outside Linux, a
// rougher test than the terminal ioctl).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
