package supervise

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// child is one started generation of the command. Only the loop touches it.
type child struct {
	pid     int
	group   bool // the child leads a process group of its own
	gen     int  // 1 for the first start, 2 after the first restart, …
	started time.Time
}

// startChild starts the command with env, standard input, output and
// error inherited, in a process group of its own when group is true. With
// mask set, its output and error are pipes that mask copies to ours.
func startChild(path string, argv, env []string, group bool, gen int, mask *Masker) (*child, error) {
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: group},
	}
	if mask != nil {
		out, errOut, err := mask.pipes(os.Stdout, os.Stderr)
		if err != nil {
			return nil, err
		}
		// Ours close once the child has its own.
		defer out.Close()
		defer errOut.Close()
		attr.Files = []uintptr{0, out.Fd(), errOut.Fd()}
	}
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return nil, err
	}
	return &child{pid: pid, group: group, gen: gen, started: time.Now()}, nil
}

// signal sends sig to the child (not to its group).
func (c *child) signal(sig syscall.Signal) error {
	return syscall.Kill(c.pid, sig)
}

// kill sends KILL to the child's process group when it has one, so that
// nothing it started outlives it, else to the child alone.
func (c *child) kill() error {
	if c.group {
		if err := syscall.Kill(-c.pid, syscall.SIGKILL); err == nil || !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	return syscall.Kill(c.pid, syscall.SIGKILL)
}

// exitCode is the code a shell would report for status: the exit status,
// or 128+N for a death by signal N.
func exitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}

// startFailureCode is the exit code for a command that could not be
// started: 127 when it is gone, 126 otherwise, as a shell reports them.
func startFailureCode(err error) int {
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}
