//go:build !linux

package vaulttest

import "os/exec"

// setProcAttr is a no-op where the parent-death signal is not available.
func setProcAttr(cmd *exec.Cmd) {}
