package supervise

import "github.com/n8n-secrets/n8n-secrets/internal/logcode"

// Codes lists the log codes of this package, with their level, exit code
// and meaning: `n8n-secrets codes` and the README's tables of codes and exit
// codes are built from the packages' lists.
var Codes = []logcode.Code{
	{Name: CodeChildStarted, Level: "info", Meaning: "the command started as a child: `pid`, `supervisor_pid`, `policy`, `refresh_s`, `splay_s`, `grace_s`"},
	{Name: CodeChildExited, Level: "info", Meaning: "the command exited for good: `exit` is the supervisor's exit code (128+N for signal N)"},
	{Name: CodeChildStartFailed, Level: "error", Exit: 126, Meaning: "the command could not be started (again): exit 126 or 127"},
	{Name: CodeSignalForwarded, Level: "info", Meaning: "a signal was sent to the command (WINCH at debug level)"},
	{Name: CodeSignalHeld, Level: "info", Meaning: "a TERM was not sent again to a command already stopping"},
	{Name: CodeChangeScheduled, Level: "info", Meaning: "new values will be applied after the splay: `vars`, `reason`, `action`, `delay_ms`"},
	{Name: CodeChangeIgnored, Level: "warn", Meaning: "new values, and `N8N_SECRETS_ON_CHANGE=none`: the command keeps the old ones"},
	{Name: CodeChangeSignaled, Level: "info", Meaning: "new values, and `signal:NAME`: the command was signaled"},
	{Name: CodeChangeExit, Level: "info", Meaning: "new values, and `exit`: the command is stopped and the supervisor exits 75"},
	{Name: CodeChildStopping, Level: "info", Meaning: "the kill signal (`N8N_SECRETS_KILL_SIGNAL`, TERM by default) sent to the command, for a restart or an exit: `signal`, `grace_s`"},
	{Name: CodeChildKilled, Level: "warn", Meaning: "the command outlived the kill timeout after the kill signal: killed"},
	{Name: CodeChildRestarted, Level: "info", Meaning: "the command restarted with new values: `pid`, `old_pid`, `vars`, `reason`, `since_change_ms`"},
	{Name: CodeRestartCanceled, Level: "info", Meaning: "a pending change was dropped: a stop signal, or the stores hold again what the command runs with (`why`)"},
	{Name: CodeZombiesReaped, Level: "debug", Meaning: "orphaned processes reaped (as PID 1, or as a child subreaper)"},
	{Name: CodeSubreaperFailed, Level: "warn", Meaning: "the supervisor could not register as a child subreaper"},
	{Name: CodeCleanupTimeout, Level: "error", Meaning: "releasing leases and the login token at exit took too long"},
}
