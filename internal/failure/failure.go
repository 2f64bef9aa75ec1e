// Package failure is the one value a command returns when it stops before
// exec (or before its own work is done): the log codes of what failed, the
// signal that stopped it, whether the n8n guard refused the start, and
// whether its events are in the log already. The command's single exit
// path maps it to an exit code; nothing else decides one.
package failure

import (
	"errors"
	"strconv"
	"strings"
	"syscall"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

// Failure is what stopped a command.
type Failure struct {
	// Codes are the log codes of what failed, each declaring its exit.
	Codes []logcode.Code
	// Signal is the signal that stopped the command (exit 128+N); 0 for
	// none.
	Signal syscall.Signal
	// Refused: the n8n guard refused the start (exit 78, or 69 when its
	// one failure is a database that did not answer).
	Refused bool
	// Logged: the failure's events are in the log already; the exit path
	// only maps it to the exit code.
	Logged bool
	// Err is the failure to report, when it is not logged yet.
	Err error
	// Status is a command's own exit status, passed on as it is: the
	// child's in supervise mode, audit's 1 for findings; 0 for none.
	Status int
}

func (f *Failure) Error() string {
	switch {
	case f == nil:
		return "failed without a reason (a nil *Failure returned as an error)"
	case f.Err != nil:
		return f.Err.Error()
	case f.Signal != 0:
		return "stopped by " + f.Signal.String()
	case f.Status != 0:
		return "exit status " + strconv.Itoa(f.Status)
	}
	names := make([]string, len(f.Codes))
	for i, c := range f.Codes {
		names[i] = c.Name()
	}
	return "failed: " + strings.Join(names, ", ")
}

func (f *Failure) Unwrap() error {
	if f == nil {
		return nil
	}
	return f.Err
}

// Logged returns the failure of codes whose events are in the log.
func Logged(codes ...logcode.Code) error { return &Failure{Codes: codes, Logged: true} }

// Refused returns the n8n guard's refusal for codes, logged.
func Refused(codes ...logcode.Code) error { return &Failure{Codes: codes, Refused: true, Logged: true} }

// Signaled returns the failure of a command stopped by sig, logged.
func Signaled(sig syscall.Signal) error { return &Failure{Signal: sig, Logged: true} }

// Status returns a command's own exit status as a failure (nil for 0): it
// is the exit code, nothing is logged.
func Status(code int) error {
	if code == 0 {
		return nil
	}
	return &Failure{Status: code, Logged: true}
}

// As returns err's Failure, or nil.
func As(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// Coded is an error that carries its own log code (a usage error).
type Coded interface {
	error
	LogCode() logcode.Code
}

// Of returns err as a Failure: err's own, or one made from err's code (its
// own, else the core's classification, inject.CodeOf), not logged yet. A
// nil *Failure returned as an error failed without saying why: a failure
// without codes (65), to report, never exit 0.
func Of(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		if f == nil {
			return &Failure{Err: err}
		}
		return f
	}
	var c Coded
	if errors.As(err, &c) {
		return &Failure{Codes: []logcode.Code{c.LogCode()}, Err: err}
	}
	return &Failure{Codes: []logcode.Code{inject.CodeOf(err)}, Err: err}
}

// HintOf returns err's hint (what to do about it), or "".
func HintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// Exit is the exit code of f, the one mapping of a failure to an exit
// code before exec:
//   - a signal: 128+N, as a shell reports a death by signal N (130 for
//     SIGINT, 143 for SIGTERM), whatever else failed;
//   - a refusal of the n8n guard: 78, unless its one failure is a code
//     that declares 69 (n8n's database did not answer, under
//     N8N_SECRETS_VERIFY_KEY=on);
//   - otherwise the most pressing of the exits its codes declare (64, 77,
//     69, 65; logcode.MostPressing); a code that declares none is 65, and
//     CANCELED without a signal is 130.
//
// A nil Failure is 0.
func (f *Failure) Exit() int {
	if f == nil {
		return 0
	}
	if f.Status != 0 {
		return f.Status
	}
	if f.Signal != 0 {
		return 128 + int(f.Signal)
	}
	exit := logcode.ExitOf(f.Codes...)
	if f.Refused {
		if len(f.Codes) == 1 && exit == inject.ExitUnavailable {
			return inject.ExitUnavailable
		}
		return inject.ExitConfig
	}
	if exit == 0 {
		return inject.ExitData
	}
	return exit
}

// Exit returns err's exit code: 0 for nil.
func Exit(err error) int {
	if err == nil {
		return 0
	}
	return Of(err).Exit()
}
