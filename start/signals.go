package start

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// begin starts the one deadline of a command that reads secrets, before it
// reads any file or the network: the context ends at the deadline, or on
// SIGTERM or SIGINT once watched (watchSignalsFrom), which sigs records.
// done releases both.
func begin(timeout time.Duration) (ctx context.Context, sigs *signals, done func()) {
	sigs = newSignals()
	ctx, cancel := context.WithTimeout(context.WithValue(sigs.ctx, signalsKey{}, sigs), timeout)
	return ctx, sigs, func() {
		cancel()
		sigs.stop()
	}
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
