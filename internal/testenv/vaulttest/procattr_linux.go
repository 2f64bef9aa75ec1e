package vaulttest

import (
	"os/exec"
	"syscall"
)

// setProcAttr asks the kernel to send vaultdev SIGTERM if the test process
// dies without running its cleanups (e.g. killed by `go test -timeout`), so
// no Vault server outlives its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
