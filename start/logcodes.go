package start

import (
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// codes are the log codes of the start sequence's own events; the core's
// failure codes are in package inject and the guard's in package n8n.
var codes logcode.Set

// Codes lists the log codes of this package, in the order they were
// declared.
func Codes() []logcode.Code { return codes.Codes() }

// The start's own events.
var (
	CodeResolved         = codes.New("RESOLVED", "info", 0, "a variable got its value: `var`, `scheme`, `path`, `selector`, `version`, `duration_ms`, `attempts` (never the value); `reference` for the n-th `${…}` of a value, `from` and `item` for a key of an `N8N_SECRETS_ENV_FROM` secret")
	CodeOptionalMissing  = codes.New("OPTIONAL_MISSING", "warn", 0, "an `optional=true` secret or key is missing: the variable is left out")
	CodeForeignReference = codes.New("FOREIGN_REFERENCE", "warn", 0, "a variable's whole value is another tool's reference (`op://`, `ref+vault://`, `sm://`, an AWS ARN without `awssm://`): passed on as it is; `var`, `tool`, `hint`. A variable in `N8N_SECRETS_SKIP` is not looked at")
	CodeEnvFromShadowed  = codes.New("ENV_FROM_SHADOWED", "info", 0, "a key of an `N8N_SECRETS_ENV_FROM` secret is set already (in the environment, or by an earlier item): the value set first is kept; `var`, `item`, `kept`")
	CodeFileVarsLeft     = codes.New("FILE_VARS_LEFT", "info", 0, "`NAME_FILE` variables whose file is outside the secrets mounts, passed on unresolved (`vars`)")
	CodeExec             = codes.New("EXEC", "info", 0, "the summary just before exec: `command`, `variables`, `fetches`, `providers`, `n8n_role`, `n8n_key_fingerprint`, `duration_ms`, `pid`")
	CodeNotStarting      = codes.New("NOT_STARTING", "error", 0, "the start is refused: `failed_codes` lists why, with `command`, `n8n_role`, `exit`; one per refused start, the event to alert on")
	// CodeCleanupFailed: a provider could not release what it held; package watch logs it too.
	CodeCleanupFailed        = codes.Share(watch.CodeCleanupFailed)
	CodeCommandNotFound      = codes.New("COMMAND_NOT_FOUND", "error", 127, "the command does not exist: exit 127, before any secret is fetched")
	CodeCommandNotExec       = codes.New("COMMAND_NOT_EXECUTABLE", "error", 126, "the command cannot be executed: exit 126")
	CodeCommandLookupTimeout = codes.New("COMMAND_LOOKUP_TIMEOUT", "error", 69, "looking the command up did not finish before the deadline (a hung mount in `PATH`, a FIFO in the command's place): exit 69, never reported as not found")

	// CodeUpdateRefused: new values failed to resolve or failed the n8n guard; package watch logs it too.
	CodeUpdateRefused   = codes.Share(watch.CodeUpdateRefused)
	CodeKeyChanged      = codes.New("N8N_KEY_CHANGED", "error", 0, "`N8N_ENCRYPTION_KEY` has a new value in the store (logged once per new value): the command keeps the old key, the other secrets are still rolled out (`n8n_key_fingerprint`, `new_n8n_key_fingerprint`)")
	CodeValuesUnchanged = codes.New("VALUES_UNCHANGED", "info", 0, "new versions whose values the command already has: nothing to do")
)
