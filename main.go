// Command n8n-secrets resolves secret references in the environment
// (vault://, awssm://, file:, NAME_FILE), checks n8n's encryption-key
// invariants and execs the command with the values in its environment.
// Nothing is written to disk and no process of its own stays behind.
//
// This file is the only one that imports every provider: it parses the
// command line, wires the providers for the schemes actually used, calls
// package inject, prints errors and execs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

// run executes one invocation and returns the exit code. In exec mode it
// only returns when something failed: on success the process image is
// replaced by the command's.
func run(args, environ []string) int {
	s, err := loadSettings(envMap(environ))
	if err != nil {
		return fail(err)
	}
	fs := newFlagSet("n8n-secrets", s)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(helpText)
			return 0
		}
		return fail(usagef("see n8n-secrets --help", "%v", err))
	}
	rest := fs.Args()
	consumed := len(args) - len(rest)
	if consumed > 0 && args[consumed-1] == "--" {
		return execMode(s, environ, rest)
	}
	if len(rest) == 0 {
		return fail(usagef("run a command as: n8n-secrets [flags] -- CMD [ARGS…]; see n8n-secrets --help", "no command given"))
	}
	sub, subArgs := rest[0], rest[1:]
	switch sub {
	case "check":
		return checkCmd(s, environ, subArgs)
	case "fingerprint":
		return fingerprintCmd(s, environ, subArgs)
	case "keygen":
		return keygenCmd(subArgs)
	case "verify-key":
		return verifyKeyCmd(s, environ, subArgs)
	case "rekey":
		return rekeyCmd(s, environ, subArgs)
	case "version":
		fmt.Printf("n8n-secrets %s\n", version)
		return 0
	case "help":
		fmt.Print(helpText)
		return 0
	}
	return fail(usagef(fmt.Sprintf("put -- before the command to run: n8n-secrets -- %s", sub), "unknown command %q", sub))
}

// newFlagSet returns a flag set holding the settings' flags; it reports
// errors instead of printing them.
func newFlagSet(name string, s *settings) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s.register(fs)
	return fs
}

// parseSub parses a subcommand's arguments: the settings' flags again, plus
// its own, and no positional arguments.
func parseSub(name string, s *settings, args []string, own func(*flag.FlagSet)) error {
	fs := newFlagSet(name, s)
	if own != nil {
		own(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("see n8n-secrets --help", "%s: %v", name, err)
	}
	if fs.NArg() > 0 {
		return usagef("see n8n-secrets --help", "%s: unexpected argument %q", name, fs.Arg(0))
	}
	return s.validate()
}

// fail prints err as "n8n-secrets: error: …" (and a hint, if any) on stderr
// and returns its exit code. It is for failures before logging starts.
func fail(err error) int {
	fmt.Fprintf(os.Stderr, "n8n-secrets: error: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.hint != "" {
			fmt.Fprintf(os.Stderr, "n8n-secrets: hint: %s\n", ue.hint)
		}
		return inject.ExitUsage
	}
	return inject.CodeOf(err).ExitCode()
}

// execMode resolves, checks and execs argv.
func execMode(s *settings, environ, argv []string) int {
	if err := s.validate(); err != nil {
		return fail(err)
	}
	if len(argv) == 0 {
		return fail(usagef("n8n-secrets [flags] -- CMD [ARGS…]", "no command after --"))
	}
	log := s.logger()
	// Find the command first: a typo should not cost a login to a store.
	path, code := lookPath(argv[0])
	if code != 0 {
		log.Error("command not runnable", "code", codeName(code), "command", argv[0], "exit", code)
		return code
	}
	ctx, stop := signalContext()
	defer stop()
	o := prepare(ctx, s, environ, argv, log, true)
	if code := o.report(log); code != 0 {
		var sig signalError
		if errors.As(context.Cause(ctx), &sig) {
			return 128 + int(sig.sig)
		}
		return code
	}
	log.Info("exec", o.summary(argv[0])...)
	stop()
	err := syscall.Exec(path, argv, o.env)
	code = inject.ExitNotExec
	if errors.Is(err, syscall.ENOENT) {
		code = inject.ExitNotFound
	}
	log.Error("exec failed", "code", codeName(code), "command", argv[0], "error", err.Error(), "exit", code)
	return code
}

// lookPath finds the command as the shell would, and returns 127 when it
// does not exist and 126 when it cannot be executed.
func lookPath(name string) (string, int) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, 0
	}
	if errors.Is(err, fs.ErrPermission) {
		return "", inject.ExitNotExec
	}
	if st, serr := os.Stat(name); serr == nil && strings.Contains(name, "/") && (st.IsDir() || st.Mode()&0o111 == 0) {
		return "", inject.ExitNotExec
	}
	return "", inject.ExitNotFound
}

func codeName(exit int) string {
	if exit == inject.ExitNotFound {
		return "COMMAND_NOT_FOUND"
	}
	return "COMMAND_NOT_EXECUTABLE"
}

// signalContext returns a context canceled by SIGTERM or SIGINT, whose
// cause names the signal, and a stop function that restores the default
// handlers (before exec, so the child gets its signals).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(signalError{sig.(syscall.Signal)})
		case <-done:
		}
	}()
	stopped := false
	return ctx, func() {
		if !stopped {
			stopped = true
			signal.Stop(ch)
			close(done)
		}
	}
}

// signalError is the cause of a context canceled by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "stopped by " + e.sig.String() }

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if _, dup := m[k]; !dup {
				m[k] = v
			}
		}
	}
	return m
}

// ms returns d in milliseconds, for log attributes.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
