package supervise

import (
	"fmt"
	"strings"
	"syscall"
)

// Action is what the supervisor does with new values.
type Action int

// The actions of a Policy.
const (
	// Restart stops the child gracefully (TERM, grace, KILL) and starts it
	// again with the new values.
	Restart Action = iota
	// Signal sends the child a signal and keeps it running with its values.
	Signal
	// Exit stops the child gracefully and exits with ExitChanged, so that
	// the orchestrator starts the container again.
	Exit
	// None logs the change and keeps the child as it is.
	None
)

// ExitChanged is the supervisor's exit code under the Exit policy:
// EX_TEMPFAIL, so that restart policies that only act on failures (Docker's
// on-failure) start the container again too.
const ExitChanged = 75

// Policy is what to do when new values arrive (N8N_SECRETS_ON_CHANGE).
type Policy struct {
	Action Action
	Signal syscall.Signal // for Signal
}

// signalNames are the signals a Policy may send, by name without "SIG".
var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "TERM": syscall.SIGTERM,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "WINCH": syscall.SIGWINCH, "ALRM": syscall.SIGALRM,
}

// ParsePolicy parses "restart", "exit", "none" or "signal:NAME" (NAME one of
// HUP, INT, QUIT, TERM, USR1, USR2, WINCH, ALRM, with or without "SIG",
// any case).
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "restart", "":
		return Policy{Action: Restart}, nil
	case "exit":
		return Policy{Action: Exit}, nil
	case "none":
		return Policy{Action: None}, nil
	}
	if name, ok := strings.CutPrefix(strings.ToLower(s), "signal:"); ok {
		name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
		if sig, ok := signalNames[name]; ok {
			return Policy{Action: Signal, Signal: sig}, nil
		}
		return Policy{}, fmt.Errorf("unknown signal %q: use HUP, INT, QUIT, TERM, USR1, USR2, WINCH or ALRM", name)
	}
	return Policy{}, fmt.Errorf("must be restart, signal:NAME, exit or none")
}

// String writes the policy back as ParsePolicy reads it.
func (p Policy) String() string {
	switch p.Action {
	case Signal:
		return "signal:" + signalName(p.Signal)
	case Exit:
		return "exit"
	case None:
		return "none"
	}
	return "restart"
}

// signalName returns "TERM" for SIGTERM, and so on.
func signalName(sig syscall.Signal) string {
	for n, s := range signalNames {
		if s == sig {
			return n
		}
	}
	switch sig {
	case syscall.SIGCHLD:
		return "CHLD"
	case syscall.SIGKILL:
		return "KILL"
	}
	return fmt.Sprintf("%d", int(sig))
}

// stopSignals are the signals ParseStopSignal takes: those a program may
// take as "stop" (envconsul's -kill-signal, Vault Agent's
// restart_stop_signal).
var stopSignals = []string{"TERM", "INT", "QUIT", "HUP", "USR1", "USR2"}

// ParseStopSignal parses the name of the signal that stops the child for a
// restart or an exit: TERM, INT, QUIT, HUP, USR1 or USR2, with or without
// "SIG", any case.
func ParseStopSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	for _, n := range stopSignals {
		if n == name {
			return signalNames[n], nil
		}
	}
	return 0, fmt.Errorf("must be one of %s", strings.Join(stopSignals, ", "))
}
