package supervise

// Log codes of the events this package logs, stable for alerts to match.
const (
	// CodeChildStarted: the command was started as a child (its first start).
	CodeChildStarted = "CHILD_STARTED"
	// CodeChildExited: the child exited for good; the supervisor exits with its code.
	CodeChildExited = "CHILD_EXITED"
	// CodeChildStartFailed: a restart could not start the command again.
	CodeChildStartFailed = "CHILD_START_FAILED"
	// CodeSignalForwarded: a signal the supervisor received was sent to the child.
	CodeSignalForwarded = "SIGNAL_FORWARDED"
	// CodeSignalHeld: a TERM was not forwarded: the child already got one and is stopping.
	CodeSignalHeld = "SIGNAL_NOT_FORWARDED"
	// CodeChangeScheduled: new values will be applied after the splay delay.
	CodeChangeScheduled = "CHANGE_SCHEDULED"
	// CodeChangeIgnored: new values, and the policy is none: the child keeps the old ones.
	CodeChangeIgnored = "CHANGE_IGNORED"
	// CodeChangeSignaled: new values, and the policy sent the child a signal.
	CodeChangeSignaled = "CHANGE_SIGNALED"
	// CodeChangeExit: new values, and the policy stops the child and exits (75) for the orchestrator to restart.
	CodeChangeExit = "CHANGE_EXIT"
	// CodeChildStopping: TERM was sent to the child, for a restart or an exit.
	CodeChildStopping = "CHILD_STOPPING"
	// CodeChildKilled: the child outlived the grace period after TERM and was killed.
	CodeChildKilled = "CHILD_KILLED"
	// CodeChildRestarted: the child was restarted with new values.
	CodeChildRestarted = "CHILD_RESTARTED"
	// CodeRestartCanceled: a pending restart was dropped (a stop signal, or newer values).
	CodeRestartCanceled = "RESTART_CANCELED"
	// CodeZombiesReaped: orphaned processes that had exited were reaped.
	CodeZombiesReaped = "ZOMBIES_REAPED"
	// CodeSubreaperFailed: the supervisor could not register as a child subreaper.
	CodeSubreaperFailed = "SUBREAPER_FAILED"
	// CodeCleanupTimeout: releasing the Source (revoking leases) did not finish in time.
	CodeCleanupTimeout = "CLEANUP_TIMEOUT"
)
