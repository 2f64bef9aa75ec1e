package start

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

// lookPath finds the command as the shell would. When it cannot, it
// returns the failure's code and exit: COMMAND_NOT_FOUND (127) when it does
// not exist, COMMAND_LOOKUP_TIMEOUT (69) when the lookup did not finish
// before the deadline (CANCELED, 128+N, when signal N stopped it), and
// COMMAND_NOT_EXECUTABLE (126) when it cannot be executed: not executable,
// or not a format execve runs (neither an ELF binary nor a script starting
// with "#!"), found before anything is fetched or written rather than by a
// failed exec at the end. It runs under ctx: a dead mount in PATH must not
// hang the start.
func lookPath(ctx context.Context, name string) (path string, failed logcode.Code, sig syscall.Signal) {
	type found struct {
		path   string
		failed logcode.Code
	}
	f, err := inject.Call(ctx, func() (found, error) {
		path, err := exec.LookPath(name)
		if err == nil {
			if !execFormat(path) {
				return found{"", CodeCommandNotExec}, nil
			}
			return found{path, logcode.Code{}}, nil
		}
		if errors.Is(err, fs.ErrPermission) {
			return found{"", CodeCommandNotExec}, nil
		}
		if st, serr := os.Stat(name); serr == nil && strings.Contains(name, "/") && (st.IsDir() || st.Mode()&0o111 == 0) {
			return found{"", CodeCommandNotExec}, nil
		}
		return found{"", CodeCommandNotFound}, nil
	})
	if err != nil {
		// The lookup did not finish: not an answer that the command does
		// not exist.
		if se, ok := context.Cause(ctx).(signalError); ok {
			return "", inject.CodeCanceled, se.sig
		}
		return "", CodeCommandLookupTimeout, 0
	}
	return f.path, f.failed, 0
}

// execFormat reports whether path starts as a program execve runs: an ELF
// header or "#!". A file it cannot read (execute-only) is given the
// benefit of the doubt.
func execFormat(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	return (n >= 2 && head[0] == '#' && head[1] == '!') || (n == 4 && string(head[:]) == "\x7fELF")
}

// findCommand finds the command as lookPath does; when it cannot, it logs
// why and returns the failure (logged).
func findCommand(ctx context.Context, log *slog.Logger, command string) (string, error) {
	path, failed, sig := lookPath(ctx, command)
	if failed.IsZero() {
		return path, nil
	}
	f := &failure.Failure{Codes: []logcode.Code{failed}, Signal: sig, Logged: true}
	msg := "command not runnable"
	if failed == CodeCommandLookupTimeout {
		msg = "looking the command up did not finish before the deadline (a hung mount in PATH, or a FIFO in its place?)"
	}
	if failed == CodeCommandNotFound && !plainCommand(command) {
		// It may be anything pasted in the wrong place: not repeated.
		command = "(not shown: not a plain command name)"
	}
	log.Error(msg, "code", failed, "command", command, "exit", f.Exit())
	return "", f
}

// plainCommand reports whether a command that was not found may be named
// in the log: 1 to 128 lower-case letters, digits and ._/+- as program
// names are, and no run of 24 or more hexadecimal digits (a key made with
// openssl rand -hex). A key is random in case, or hexadecimal. (A loop, not
// a regular expression: a bounded repeat compiles into one copy of the
// class per count, paid at every start.)
func plainCommand(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	hexRun := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("._/+-", c) >= 0) {
			return false
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			if hexRun++; hexRun >= 24 {
				return false
			}
		} else {
			hexRun = 0
		}
	}
	return true
}
