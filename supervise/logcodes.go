package supervise

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// codes is the set of this package's log codes, in the order of the
// README's table of codes.
var codes logcode.Set

// Codes returns the log codes of this package, with their level, exit code
// and meaning, in the order they are declared: `n8n-secrets codes` and the
// README's tables of codes and exit codes are built from the packages' lists.
func Codes() []logcode.Code { return codes.Codes() }

// The log codes of this package.
var (
	// CodeChildStarted: the command was started as a child (its first start).
	CodeChildStarted = codes.New("CHILD_STARTED", "info", 0, "the command started as a child: `pid`, `supervisor_pid`, `policy`, `refresh_s`, `splay_s`, `grace_s`")
	// CodeChildExited: the child exited for good; the supervisor exits with its code.
	CodeChildExited = codes.New("CHILD_EXITED", "info", 0, "the command exited for good: `exit` is the supervisor's exit code (128+N for signal N)")
	// CodeChildStartFailed: a restart could not start the command again.
	CodeChildStartFailed = codes.New("CHILD_START_FAILED", "error", 126, "the command could not be started (again): exit 126 or 127")
	// CodeSignalForwarded: a signal the supervisor received was sent to the child.
	CodeSignalForwarded = codes.New("SIGNAL_FORWARDED", "info", 0, "a signal was sent to the command (WINCH at debug level)")
	// CodeSignalHeld: a TERM was not forwarded: the child already got one and is stopping.
	CodeSignalHeld = codes.New("SIGNAL_NOT_FORWARDED", "info", 0, "a TERM was not sent again to a command already stopping")
	// CodeChangeScheduled: new values will be applied after the splay delay.
	CodeChangeScheduled = codes.New("CHANGE_SCHEDULED", "info", 0, "new values will be applied after the splay: `vars`, `reason`, `action`, `delay_ms`")
	// CodeChangeIgnored: new values, and the policy is none: the child keeps the old ones.
	CodeChangeIgnored = codes.New("CHANGE_IGNORED", "warn", 0, "new values, and `N8N_SECRETS_ON_CHANGE=none`: the command keeps the old ones")
	// CodeChangeSignaled: new values, and the policy sent the child a signal.
	CodeChangeSignaled = codes.New("CHANGE_SIGNALED", "info", 0, "new values, and `signal:NAME`: the command was signaled")
	// CodeChangeExit: new values, and the policy stops the child and exits (75) for the orchestrator to restart.
	CodeChangeExit = codes.New("CHANGE_EXIT", "info", 0, "new values, and `exit`: the command is stopped and the supervisor exits 75")
	// CodeChildStopping: TERM was sent to the child, for a restart or an exit.
	CodeChildStopping = codes.New("CHILD_STOPPING", "info", 0, "the kill signal (`N8N_SECRETS_KILL_SIGNAL`, TERM by default) sent to the command, for a restart or an exit: `signal`, `grace_s`")
	// CodeChildKilled: the child outlived the grace period after TERM and was killed.
	CodeChildKilled = codes.New("CHILD_KILLED", "warn", 0, "the command outlived the kill timeout after the kill signal: killed")
	// CodeChildRestarted: the child was restarted with new values.
	CodeChildRestarted = codes.New("CHILD_RESTARTED", "info", 0, "the command restarted with new values: `pid`, `old_pid`, `vars`, `reason`, `since_change_ms`")
	// CodeRestartCanceled: a pending restart was dropped (a stop signal, or newer values).
	CodeRestartCanceled = codes.New("RESTART_CANCELED", "info", 0, "a pending change was dropped: a stop signal, or the stores hold again what the command runs with (`why`)")
	// CodeZombiesReaped: orphaned processes that had exited were reaped.
	CodeZombiesReaped = codes.New("ZOMBIES_REAPED", "debug", 0, "orphaned processes reaped (as PID 1, or as a child subreaper)")
	// CodeSubreaperFailed: the supervisor could not register as a child subreaper.
	CodeSubreaperFailed = codes.New("SUBREAPER_FAILED", "warn", 0, "the supervisor could not register as a child subreaper")
	// CodeCleanupTimeout: releasing the Source (revoking leases) did not finish in time.
	CodeCleanupTimeout = codes.New("CLEANUP_TIMEOUT", "error", 0, "releasing leases and the login token at exit took too long")
)
