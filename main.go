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
	"sync"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
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
		return fail(s, err)
	}
	fs := newFlagSet("n8n-secrets", s)
	showVersion := fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Print(helpText)
			return 0
		}
		return fail(s, usagef("see n8n-secrets --help", "%v", err))
	}
	if *showVersion {
		return versionCmd()
	}
	rest := fs.Args()
	consumed := len(args) - len(rest)
	if consumed > 0 && args[consumed-1] == "--" {
		return execMode(s, environ, rest)
	}
	if len(rest) == 0 {
		return fail(s, usagef("run a command as: n8n-secrets [flags] -- CMD [ARGS…]; see n8n-secrets --help", "no command given"))
	}
	sub, subArgs := rest[0], rest[1:]
	if cmd := commands[sub]; cmd != nil {
		return cmd(s, environ, subArgs)
	}
	hint := "put -- before the command to run: n8n-secrets -- " + sub
	if near := nearestCommand(sub); near != "" {
		hint = "did you mean n8n-secrets " + near + "? To run a command of that name, put -- before it: n8n-secrets -- " + sub
	}
	return fail(s, usagef(hint, "unknown command %q", short(sub)))
}

// commands are the subcommands, by name; each lives in a file of its own.
var commands map[string]func(s *settings, environ, args []string) int

func init() {
	commands = map[string]func(*settings, []string, []string) int{
		"check":       checkCmd,
		"fingerprint": fingerprintCmd,
		"keygen":      keygenCmd,
		"audit":       func(s *settings, _, args []string) int { return auditCmd(s, args) },
		"codes":       codesCmd,
		"verify-key":  verifyKeyCmd,
		"rekey":       rekeyCmd,
		"install":     installCmd,
		"version":     func(*settings, []string, []string) int { return versionCmd() },
		"help": func(*settings, []string, []string) int {
			fmt.Print(helpText)
			return 0
		},
	}
}

func versionCmd() int {
	fmt.Printf("n8n-secrets %s\n", version)
	return 0
}

// nearestCommand returns the subcommand name was probably meant to be
// ("chek" gives "check"), or "".
func nearestCommand(name string) string {
	names := make([]string, 0, len(commands))
	for c := range commands {
		names = append(names, c)
	}
	return suggest.Nearest(name, 2, names...)
}

// short truncates s for a message: an argument may be anything.
func short(s string) string {
	if r := []rune(s); len(r) > 32 {
		return string(r[:32]) + "…"
	}
	return s
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

// fail reports err, a failure before or outside the resolution's own
// events, and returns its exit code. In JSON mode (the default, and what s
// says when given; with s nil, N8N_SECRETS_LOG_FORMAT when it is valid)
// it is one JSON line with a code, like every other line; in text mode it
// is "n8n-secrets: error: …" and an optional "n8n-secrets: hint: …".
func fail(s *settings, err error) int {
	code, exit, hint := inject.CodeOf(err), inject.CodeOf(err).ExitCode(), ""
	var ue *usageError
	if errors.As(err, &ue) {
		code, exit, hint = inject.CodeUsage, inject.ExitUsage, ue.hint
	}
	if logFormat(s) == "text" {
		fmt.Fprintf(os.Stderr, "n8n-secrets: error: %v\n", err)
		if hint != "" {
			fmt.Fprintf(os.Stderr, "n8n-secrets: hint: %s\n", hint)
		}
		return exit
	}
	attrs := []any{"code", string(code), "error", err.Error(), "exit", exit}
	if hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	msg := "failed"
	if ue != nil {
		msg = "usage or settings error"
	}
	newLogger("json", "info").Error(msg, attrs...)
	return exit
}

// execMode resolves, checks and execs argv.
func execMode(s *settings, environ, argv []string) int {
	if err := s.validate(); err != nil {
		return fail(s, err)
	}
	if len(argv) == 0 {
		return fail(s, usagef("n8n-secrets [flags] -- CMD [ARGS…]", "no command after --"))
	}
	if s.Mode == modeSupervise {
		return superviseMode(s, environ, argv)
	}
	log := s.logger()
	ctx, sigs, done := begin(s)
	defer done()

	// Find the command first: a typo should not cost a login to a store.
	path, code := lookPath(ctx, argv[0])
	if code != 0 {
		log.Error("command not runnable", "code", codeName(code), "command", argv[0], "exit", code)
		return code
	}
	o := prepare(ctx, s, environ, argv, log, true)
	if code := o.report(log, argv[0]); code != 0 {
		if sig := sigs.received(); sig != 0 {
			return 128 + int(sig)
		}
		return code
	}
	// A signal that arrived at any point stops the start, even one that
	// came after the last step that could notice it; nothing is written.
	if sig := sigs.received(); sig != 0 {
		return o.stopped(log, argv[0], sig)
	}
	// Last, once nothing else can refuse the start: the guard's write.
	if code := o.applySync(log); code != 0 {
		return code
	}
	if sig := sigs.stop(); sig != 0 {
		return o.stopped(log, argv[0], sig)
	}
	log.Info("exec", o.summary(argv[0])...)
	err := syscall.Exec(path, argv, o.env)
	code = inject.ExitNotExec
	if errors.Is(err, syscall.ENOENT) {
		code = inject.ExitNotFound
	}
	log.Error("exec failed", "code", codeName(code), "command", argv[0], "error", err.Error(), "exit", code)
	return code
}

// begin starts the one deadline of a command that reads secrets, before it
// reads any file or the network: the context ends at the deadline, or on
// SIGTERM or SIGINT once watched (watchSignalsFrom), which sigs records.
// done releases both.
func begin(s *settings) (ctx context.Context, sigs *signals, done func()) {
	sigs = newSignals()
	ctx, cancel := context.WithTimeout(context.WithValue(sigs.ctx, signalsKey{}, sigs), s.Timeout)
	return ctx, sigs, func() {
		cancel()
		sigs.stop()
	}
}

// lookPath finds the command as the shell would, and returns 127 when it
// does not exist and 126 when it cannot be executed: not executable, or
// not a format execve runs (neither an ELF binary nor a script starting
// with "#!"), found before anything is fetched or written rather than by a
// failed exec at the end. It runs under ctx: a dead mount in PATH must not
// hang the start.
func lookPath(ctx context.Context, name string) (string, int) {
	type found struct {
		path string
		code int
	}
	f, err := inject.Call(ctx, func() (found, error) {
		path, err := exec.LookPath(name)
		if err == nil {
			if !execFormat(path) {
				return found{"", inject.ExitNotExec}, nil
			}
			return found{path, 0}, nil
		}
		if errors.Is(err, fs.ErrPermission) {
			return found{"", inject.ExitNotExec}, nil
		}
		if st, serr := os.Stat(name); serr == nil && strings.Contains(name, "/") && (st.IsDir() || st.Mode()&0o111 == 0) {
			return found{"", inject.ExitNotExec}, nil
		}
		return found{"", inject.ExitNotFound}, nil
	})
	if err != nil {
		return "", inject.ExitNotFound
	}
	return f.path, f.code
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

func codeName(exit int) string {
	if exit == inject.ExitNotFound {
		return codeCommandNotFound
	}
	return codeCommandNotExec
}

// signals is the watch on SIGTERM and SIGINT kept until exec: ctx is
// canceled by the first one, and the start stops. It is installed only
// once there is something to clean up after (see watchSignalsFrom): before
// that, a signal's default action ends the process at once, which execs
// nothing, and costs nothing to set up (os/signal takes an OS thread of
// its own, the largest part of the start-up that is ours).
type signals struct {
	ctx      context.Context
	cancel   context.CancelCauseFunc
	ch       chan os.Signal
	done     chan struct{}
	mu       sync.Mutex
	got      syscall.Signal
	watching bool
	stopped  bool
}

// newSignals returns a watch that is not installed yet.
func newSignals() *signals {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &signals{ctx: ctx, cancel: cancel, ch: make(chan os.Signal, 2), done: make(chan struct{})}
}

// watch installs the handlers, once (not after stop).
func (s *signals) watch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watching || s.stopped {
		return
	}
	s.watching = true
	signal.Notify(s.ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case sig := <-s.ch:
			s.record(sig.(syscall.Signal))
			s.cancel(signalError{sig.(syscall.Signal)})
		case <-s.done:
		}
	}()
}

// signalsKey keys the watch in a context.
type signalsKey struct{}

// watchSignalsFrom installs the signal handlers of the command whose
// context ctx is: called where work starts that must be cleaned up after
// (a login to a store, to revoke), rather than cut short by a signal.
func watchSignalsFrom(ctx context.Context) {
	if s, ok := ctx.Value(signalsKey{}).(*signals); ok {
		s.watch()
	}
}

func (s *signals) record(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == 0 {
		s.got = sig
	}
}

// received returns the first signal received so far, or 0.
func (s *signals) received() syscall.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// stop restores the default handlers (before exec, so the child gets its
// signals) and returns the first signal received, also one that arrived
// just before, or 0. Later calls only return it again.
func (s *signals) stop() syscall.Signal {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		if s.watching {
			signal.Stop(s.ch)
			close(s.done)
		}
	}
	s.mu.Unlock()
	select {
	case sig := <-s.ch:
		s.record(sig.(syscall.Signal))
	default:
	}
	return s.received()
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
