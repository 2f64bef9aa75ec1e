package inject

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
)

// Linux's limits on what execve takes (fs/exec.c, include/uapi/linux/binfmts.h).
const (
	// MaxEnvString is the most bytes one argument or environment string
	// takes, its terminating NUL included (MAX_ARG_STRLEN, 32 pages): a
	// "NAME=value" entry may be at most MaxEnvString-1 bytes.
	MaxEnvString = 32 * 4096
	// minArgSpace is the least room execve grants argv and envp together
	// (ARG_MAX), whatever the stack limit.
	minArgSpace = 32 * 4096
	// maxArgSpace caps that room: three quarters of _STK_LIM (8 MiB).
	maxArgSpace = 8 << 20 / 4 * 3
)

// ArgSpace returns the room execve grants argv and envp together in this
// process: a quarter of the stack size limit, between 128 KiB and 6 MiB.
func ArgSpace() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &rl); err != nil {
		return minArgSpace
	}
	space := uint64(maxArgSpace)
	if rl.Cur/4 < space {
		space = rl.Cur / 4
	}
	return max(int(space), minArgSpace)
}

// CheckExecSize reports, before exec, what execve would refuse with
// "argument list too long" (E2BIG): each variable of env whose entry is
// longer than MaxEnvString-1 bytes, and argv with env taking more than
// space bytes in all (each string with its NUL, plus one pointer each; path
// is the program, which the kernel copies too). Errors are *VarError with
// CodeTooLarge, naming the variable and its size, never its value.
func CheckExecSize(path string, argv, env []string, space int) []error {
	var errs []error
	total := len(path) + 1 + 8*(max(len(argv), 1)+len(env))
	for _, a := range argv {
		total += len(a) + 1
	}
	type sized struct {
		name string
		n    int
	}
	var vars []sized
	for _, kv := range env {
		total += len(kv) + 1
		name, _, _ := strings.Cut(kv, "=")
		vars = append(vars, sized{name, len(kv)})
		if len(kv) >= MaxEnvString {
			errs = append(errs, &VarError{Var: name, Code: CodeTooLarge,
				Err: fmt.Errorf("the value takes %d bytes: Linux passes at most %d bytes per environment variable (name and value), the command could not be started", len(kv)-len(name)-1, MaxEnvString-1)})
		}
	}
	if len(errs) == 0 && total > space {
		sort.Slice(vars, func(i, j int) bool { return vars[i].n > vars[j].n })
		var big []string
		for _, v := range vars[:min(3, len(vars))] {
			big = append(big, fmt.Sprintf("%s (%d bytes)", v.name, v.n))
		}
		errs = append(errs, &VarError{Var: vars[0].name, Code: CodeTooLarge,
			Err: fmt.Errorf("the command's arguments and environment take %d bytes, more than the %d bytes Linux passes to a command (a quarter of the stack limit, ulimit -s); the largest variables: %s", total, space, strings.Join(big, ", "))})
	}
	return errs
}
