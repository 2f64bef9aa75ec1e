package start

import (
	"syscall"
	"testing"
	"time"
)

// TestSignalsStopWaitsForWatcher: a SIGTERM the watcher has taken off the
// channel but not recorded yet is still what stop returns, so that the
// start stops instead of exec'ing a child that never sees the signal.
func TestSignalsStopWaitsForWatcher(t *testing.T) {
	s := newSignals()
	s.watch()
	taken := make(chan struct{})
	signalsTestHook = func(s *signals) {
		close(taken)
		for !s.isStopped() {
			time.Sleep(time.Millisecond)
		}
	}
	defer func() { signalsTestHook = nil }()
	s.ch <- syscall.SIGTERM
	<-taken
	if got := s.stop(); got != syscall.SIGTERM {
		t.Fatalf("stop returned %v, want SIGTERM: a signal the watcher held was lost", got)
	}
	if got := s.stop(); got != syscall.SIGTERM {
		t.Errorf("a second stop returned %v", got)
	}
}
