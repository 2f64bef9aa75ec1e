// Package start runs the start sequence that exec mode, supervise mode and
// every command that reads secrets share, once: under one deadline and a
// watch on SIGTERM and SIGINT (Begin), it finds the command, scans the
// environment for references, resolves them through the stores, builds the
// child's environment, runs the n8n guard (and the check of the key against
// n8n's database), logs one event per variable and per failure, and
// applies the guard's one write (the settings file's sync) last. What
// stops a start is returned as a failure.Failure; the command's one exit
// path maps it to an exit code.
//
// The stores are given (Options.Stores, from main's one list); of them it
// knows only the file store's scheme, which NAME_FILE variables resolve
// through.
package start

import (
	"context"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/failure"
)

// Run is one command's run: its one deadline, and its watch on SIGTERM and
// SIGINT (installed once there is something to clean up after).
type Run struct {
	// Ctx ends at the deadline, or on the first SIGTERM or SIGINT once
	// the watch is installed.
	Ctx  context.Context
	sigs *signals
	done func()
}

// Begin starts a run with the deadline timeout, before anything reads a
// file or the network.
func Begin(timeout time.Duration) *Run {
	ctx, sigs, done := begin(timeout)
	return &Run{Ctx: ctx, sigs: sigs, done: done}
}

// Done releases the deadline and restores the default signal handlers.
func (r *Run) Done() { r.done() }

// Received returns the first signal received so far, or 0.
func (r *Run) Received() syscall.Signal { return r.sigs.received() }

// Signaled returns the failure of a run a signal stopped (128+N), or nil.
func (r *Run) Signaled() error {
	if sig := r.sigs.received(); sig != 0 {
		return failure.Signaled(sig)
	}
	return nil
}

// Prepare scans the environment, resolves every reference, builds the
// child's environment and runs the n8n guard, under the run's deadline;
// it logs nothing of its own (Report does) and writes nothing.
func (r *Run) Prepare(opts Options) *Outcome {
	o := prepare(r.Ctx, opts)
	o.received = r.sigs.received
	return o
}

// Started is a start that passed: the command's file and what the
// resolution produced (Outcome.Env is the child's environment).
type Started struct {
	Path string
	*Outcome
}

// Launch runs the start sequence of exec and supervise mode: it finds the
// command first (a typo must not cost a login to a store), resolves and
// guards (Prepare), reports, stops on a signal, applies the guard's sync
// last, and restores the default signal handlers. On failure every
// provider is closed and the failure, logged, is returned. With
// opts.KeepProviders the providers of a passed start stay open for the
// caller, who closes them (CloseProviders).
func Launch(timeout time.Duration, opts Options) (*Started, error) {
	r := Begin(timeout)
	defer r.Done()
	command := opts.Argv[0]
	path, err := findCommand(r.Ctx, opts.Log, command)
	if err != nil {
		return nil, err
	}
	o := r.Prepare(opts)
	if err := o.launch(r, command); err != nil {
		if opts.KeepProviders {
			// prepare left them open (closing twice does nothing).
			CloseProviders(r.Ctx, o.Providers, opts.Log)
		}
		return nil, err
	}
	return &Started{Path: path, Outcome: o}, nil
}

// launch is the start after resolution: report, then a signal, then the
// sync, then a signal that came during it.
func (o *Outcome) launch(r *Run, command string) error {
	log := o.opts.Log
	if err := o.Report(log, command); err != nil {
		if sig := r.sigs.received(); sig != 0 {
			f := failure.Of(err) // never nil, unlike As
			f.Signal = sig
			return f
		}
		return err
	}
	// A signal that arrived at any point stops the start, even one that
	// came after the last step that could notice it; nothing is written.
	if sig := r.sigs.received(); sig != 0 {
		return o.stopped(log, command, sig)
	}
	// Last, once nothing else can refuse the start: the guard's write.
	if err := o.applySync(r.sigs, log, command); err != nil {
		return err
	}
	if sig := r.sigs.stop(); sig != 0 {
		return o.stopped(log, command, sig)
	}
	return nil
}

// ms returns d in milliseconds, for log attributes.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WatchSignals installs the watch on SIGTERM and SIGINT now: for work that
// must be cleaned up after (a copy's temporary file) rather than cut short
// by a signal's default action.
func (r *Run) WatchSignals() { r.sigs.watch() }
