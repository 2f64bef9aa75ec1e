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
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
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
//
// The command line is parsed first, against the settings' flags (before
// a command, and after it for the commands that take them); then the
// settings are read from the environment (and the --env-file files, under
// it) with the flags given over them; then the command runs.
func run(args, environ []string) int {
	var given []flagValue
	showVersion := false
	global := append(settingFlags(&given), boolFlag("version", "print the version", &showVersion))
	res, err := cmdline.Parse(args, global, cmdline.Options{})
	if errors.Is(err, cmdline.ErrHelp) {
		printHelp(os.Stdout)
		return 0
	}
	if err != nil {
		return failEarly(environ, given, argError("", err))
	}
	if showVersion {
		return versionCmd()
	}
	c, rest, offset := runCommand, res.Args, 0
	switch {
	case res.Dashed:
		// n8n-secrets [flags] -- CMD: the default mode.
	case len(res.Args) == 0:
		return failEarly(environ, given, usagef("run a command as: n8n-secrets [flags] -- CMD [ARGS…]; see n8n-secrets --help", "no command given"))
	default:
		if c = commandNamed(res.Args[0]); c == nil {
			return failEarly(environ, given, unknownCommand(res.Args[0], res.Pos[0]))
		}
		rest, offset = res.Args[1:], res.Pos[0]
	}
	own, runFn := c.setup()
	cargs, cpos := res.Args, res.Pos
	if !res.Dashed {
		flags := own
		if c.settings {
			flags = append(settingFlags(&given), own...)
		}
		r, err := cmdline.Parse(rest, flags, cmdline.Options{Interleaved: c.args == pathArgs, Offset: offset})
		if errors.Is(err, cmdline.ErrHelp) {
			printCommandHelp(os.Stdout, c)
			return 0
		}
		if err != nil {
			return failEarly(environ, given, argError(c.name, err))
		}
		cargs, cpos = r.Args, r.Pos
		if err := c.checkArgs(r); err != nil {
			return failEarly(environ, given, err)
		}
	}
	if !c.settings {
		// Only the settings a command without settings flags uses (the log
		// format, the deadline), from the environment.
		s, err := loadSettings(envMap(environ), given)
		if err != nil {
			return fail(s, err)
		}
		return runFn(s, environ, cargs, cpos)
	}
	s, environ, err := loadAll(environ, given)
	if err == nil {
		err = s.validate()
	}
	if err != nil {
		return fail(s, err)
	}
	return runFn(s, environ, cargs, cpos)
}

// checkArgs checks the positional arguments a command was given.
func (c *command) checkArgs(r cmdline.Result) error {
	hint := "see n8n-secrets " + c.name + " --help"
	switch {
	case c.args == noArgs && len(r.Args) > 0:
		return usagef(hint, "%s: argument %d: %s takes no arguments", c.name, r.Pos[0], c.name)
	case c.args == commandName && len(r.Args) > 1:
		return usagef(hint, "%s: argument %d: one command name at most", c.name, r.Pos[1])
	case c.args == commandArgs && len(r.Args) == 0:
		return usagef("n8n-secrets "+c.name+" [flags] [--] CMD [ARGS…]", "%s: no command given", c.name)
	}
	return nil
}

// argError turns an error of the command line into a usage error, for
// the command cmd ("" before one).
func argError(cmd string, err error) error {
	hint, prefix := "see n8n-secrets --help", ""
	if cmd != "" {
		hint, prefix = "see n8n-secrets "+cmd+" --help", cmd+": "
	}
	var ce *cmdline.Error
	if errors.As(err, &ce) && ce.Hint != "" {
		hint = ce.Hint + "; " + hint
	}
	return usagef(hint, "%s%v", prefix, err)
}

// unknownCommand is the error for a first argument that is no command: it
// names the argument's position, never its text (it may be a key pasted
// in the wrong place).
func unknownCommand(name string, pos int) error {
	hint := "to run a program, put -- before it (n8n-secrets [flags] -- CMD [ARGS…]) or use n8n-secrets run CMD [ARGS…]"
	if near := nearestCommand(name); near != "" {
		hint = "did you mean n8n-secrets " + near + "? Or " + hint
	}
	return usagef(hint, "argument %d: unknown command", pos)
}

// failEarly reports err, a mistake found before the settings were read,
// in the log format the variables and flags ask for.
func failEarly(environ []string, given []flagValue, err error) int {
	s, _ := loadSettings(envMap(environ), given)
	return fail(s, err)
}

// loadAll reads the --env-file files (the flag's, else
// N8N_SECRETS_ENV_FILE's) under environ, then the settings from the
// result with the flags given over them. It returns the settings and the
// environment the command works with: environ, then the files' variables
// that environ does not set.
func loadAll(environ []string, given []flagValue) (*settings, []string, error) {
	s, err := loadSettings(envMap(environ), given)
	if err != nil || s.EnvFile == "" {
		return s, environ, err
	}
	merged, err := readEnvFiles(s, environ)
	if err != nil {
		return s, environ, err
	}
	s, err = loadSettings(envMap(merged), given)
	return s, merged, err
}

func versionCmd() int {
	fmt.Printf("n8n-secrets %s\n", version)
	return 0
}

// nearestCommand returns the subcommand name was probably meant to be
// ("chek" gives "check"), or "".
func nearestCommand(name string) string {
	var names []string
	for _, c := range commandList {
		names = append(names, c.name)
		names = append(names, c.aliases...)
	}
	return suggest.Nearest(name, 2, names...)
}

// fail reports err, a failure before or outside the resolution's own
// events, and returns its exit code. In JSON mode (the default, and what s
// says when given; with s nil, N8N_SECRETS_LOG_FORMAT when it is valid)
// it is one JSON line with a code, like every other line; in text mode it
// is "n8n-secrets: error: …" and an optional "n8n-secrets: hint: …".
func fail(s *settings, err error) int {
	code, hint := inject.CodeOf(err), ""
	var ue *usageError
	if errors.As(err, &ue) {
		code, hint = inject.CodeUsage, ue.hint
	}
	exit := exitOf(0, false, code)
	if logFormat(s) == "text" {
		fmt.Fprintf(os.Stderr, "n8n-secrets: error: %v\n", err)
		if hint != "" {
			fmt.Fprintf(os.Stderr, "n8n-secrets: hint: %s\n", hint)
		}
		return exit
	}
	attrs := []any{"code", code, "error", err.Error(), "exit", exit}
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
	path, failed, exit := lookPath(ctx, argv[0])
	if !failed.IsZero() {
		return commandFailed(log, argv[0], failed, exit)
	}
	o := prepare(ctx, s, environ, argv, log, true)
	if code := o.report(log, argv[0]); code != 0 {
		if sig := sigs.received(); sig != 0 {
			return exitOf(sig, false)
		}
		return code
	}
	// A signal that arrived at any point stops the start, even one that
	// came after the last step that could notice it; nothing is written.
	if sig := sigs.received(); sig != 0 {
		return o.stopped(log, argv[0], sig)
	}
	// Last, once nothing else can refuse the start: the guard's write.
	if code := o.applySync(sigs, log, argv[0]); code != 0 {
		return code
	}
	if sig := sigs.stop(); sig != 0 {
		return o.stopped(log, argv[0], sig)
	}
	log.Info("exec", o.summary(argv[0])...)
	err := syscall.Exec(path, argv, o.env)
	failed = codeCommandNotExec
	if errors.Is(err, syscall.ENOENT) {
		failed = codeCommandNotFound
	}
	exit = exitOf(0, false, failed)
	log.Error("exec failed", "code", failed, "command", argv[0], "error", err.Error(), "exit", exit)
	return exit
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

// lookPath finds the command as the shell would. When it cannot, it
// returns the failure's code and exit: COMMAND_NOT_FOUND (127) when it does
// not exist, COMMAND_LOOKUP_TIMEOUT (69) when the lookup did not finish
// before the deadline (CANCELED, 128+N, when signal N stopped it), and
// COMMAND_NOT_EXECUTABLE (126) when it cannot be executed: not executable,
// or not a format execve runs (neither an ELF binary nor a script starting
// with "#!"), found before anything is fetched or written rather than by a
// failed exec at the end. It runs under ctx: a dead mount in PATH must not
// hang the start.
func lookPath(ctx context.Context, name string) (path string, failed logcode.Code, exit int) {
	type found struct {
		path   string
		failed logcode.Code
	}
	f, err := inject.Call(ctx, func() (found, error) {
		path, err := exec.LookPath(name)
		if err == nil {
			if !execFormat(path) {
				return found{"", codeCommandNotExec}, nil
			}
			return found{path, logcode.Code{}}, nil
		}
		if errors.Is(err, fs.ErrPermission) {
			return found{"", codeCommandNotExec}, nil
		}
		if st, serr := os.Stat(name); serr == nil && strings.Contains(name, "/") && (st.IsDir() || st.Mode()&0o111 == 0) {
			return found{"", codeCommandNotExec}, nil
		}
		return found{"", codeCommandNotFound}, nil
	})
	if err != nil {
		// The lookup did not finish: not an answer that the command does
		// not exist.
		if se, ok := context.Cause(ctx).(signalError); ok {
			return "", inject.CodeCanceled, exitOf(se.sig, false)
		}
		return "", codeCommandLookupTimeout, exitOf(0, false, codeCommandLookupTimeout)
	}
	if !f.failed.IsZero() {
		return "", f.failed, exitOf(0, false, f.failed)
	}
	return f.path, logcode.Code{}, 0
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

// commandFailed logs that the command cannot be run (lookPath's failed
// code and exit), and returns exit.
func commandFailed(log *slog.Logger, command string, failed logcode.Code, exit int) int {
	msg := "command not runnable"
	if failed == codeCommandLookupTimeout {
		msg = "looking the command up did not finish before the deadline (a hung mount in PATH, or a FIFO in its place?)"
	}
	if failed == codeCommandNotFound && !plainCommand(command) {
		// It may be anything pasted in the wrong place: not repeated.
		command = "(not shown: not a plain command name)"
	}
	log.Error(msg, "code", failed, "command", command, "exit", exit)
	return exit
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
	watcher  sync.WaitGroup // the goroutine that watch starts
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
	s.watcher.Go(func() {
		select {
		case sig := <-s.ch:
			if signalsTestHook != nil {
				signalsTestHook(s)
			}
			s.record(sig.(syscall.Signal))
			s.cancel(signalError{sig.(syscall.Signal)})
		case <-s.done:
		}
	})
}

// signalsTestHook, when set (by tests only), runs in the watcher between
// taking a signal off the channel and recording it.
var signalsTestHook func(*signals)

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
	// The watcher may have taken a signal off the channel and not
	// recorded it yet: wait for it to finish, then take what is left.
	s.watcher.Wait()
	select {
	case sig := <-s.ch:
		s.record(sig.(syscall.Signal))
	default:
	}
	return s.received()
}

// isStopped reports whether stop was called.
func (s *signals) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
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
