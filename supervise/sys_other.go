//go:build !linux

package supervise

import "errors"

func becomeSubreaper() error { return errors.New("child subreapers exist on Linux only") }

func isTerminal(int) bool { return false }
