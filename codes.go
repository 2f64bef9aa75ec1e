package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/install"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
	"github.com/n8n-secrets/n8n-secrets/supervise"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// Event codes of the command itself; the core's failure codes are in
// package inject and the guard's in package n8n. Every log line carries one
// (the "code" attribute), so that an alert can match it.
const (
	codeResolved        = "RESOLVED"                // a variable got its value (info)
	codeOptionalMissing = "OPTIONAL_MISSING"        // an optional secret is missing: the variable is left out (warn)
	codeExec            = "EXEC"                    // the summary just before exec (info)
	codeNotStarting     = "NOT_STARTING"            // the start is refused; failed_codes says why (error)
	codeCleanupFailed   = "PROVIDER_CLEANUP_FAILED" // a provider could not release what it held, such as revoking a login token (warn)
	codeFileVarsLeft    = "FILE_VARS_LEFT"          // NAME_FILE variables whose file is outside the secrets mounts, passed on unresolved (info)
	codeCommandNotFound = "COMMAND_NOT_FOUND"       // the command does not exist (127)
	codeCommandNotExec  = "COMMAND_NOT_EXECUTABLE"  // the command cannot be executed (126)
	// codeForeignReference: a variable holds another tool's reference (op://, ref+vault://, …), passed on as it is (warn).
	codeForeignReference = "FOREIGN_REFERENCE"
	// codeEnvFromShadowed: a key of an env-from secret is set already; the value set first is kept (info).
	codeEnvFromShadowed = "ENV_FROM_SHADOWED"
	// codeCommandLookupTimeout: looking the command up did not finish before the deadline (69).
	codeCommandLookupTimeout = "COMMAND_LOOKUP_TIMEOUT"
)

// codeDoc documents one stable code for the README's table.
type codeDoc struct {
	Code    string `json:"code"`
	Level   string `json:"level"` // of the events that carry it; "check" for check's output
	Meaning string `json:"meaning"`
}

// codeTable lists every code a log line can carry, with its meaning. The
// README's table of codes is generated from it (TestREADMECodes), and the
// tests fail when a code is logged, or declared in a package, that it does
// not list.
var codeTable = []codeDoc{
	// Resolution.
	{codeResolved, "info", "a variable got its value: `var`, `scheme`, `path`, `selector`, `version`, `duration_ms`, `attempts` (never the value); `reference` for the n-th `${…}` of a value, `from` and `item` for a key of an `N8N_SECRETS_ENV_FROM` secret"},
	{codeOptionalMissing, "warn", "an `optional=true` secret or key is missing: the variable is left out"},
	{inject.CodeRetrying, "warn", "a transient fault is retried; `cause` is its code (`PROVIDER_UNAVAILABLE`), `attempt` its number"},
	{codeForeignReference, "warn", "a variable's whole value is another tool's reference (`op://`, `ref+vault://`, `sm://`, an AWS ARN without `awssm://`): passed on as it is; `var`, `tool`, `hint`. A variable in `N8N_SECRETS_SKIP` is not looked at"},
	{codeEnvFromShadowed, "info", "a key of an `N8N_SECRETS_ENV_FROM` secret is set already (in the environment, or by an earlier item): the value set first is kept; `var`, `item`, `kept`"},
	{codeEnvFileVarUnset, "warn", "a `--env-file` file interpolates a variable that is not set: taken as empty, as Compose does; `file`, `line`, `var`"},
	{codeFileVarsLeft, "info", "`NAME_FILE` variables whose file is outside the secrets mounts, passed on unresolved (`vars`)"},
	{codeExec, "info", "the summary just before exec: `command`, `variables`, `fetches`, `providers`, `n8n_role`, `n8n_key_fingerprint`, `duration_ms`, `pid`"},
	{codeNotStarting, "error", "the start is refused: `failed_codes` lists why, with `command`, `n8n_role`, `exit`; one per refused start, the event to alert on"},
	{codeCleanupFailed, "warn", "a provider could not release what it held (a Vault login token not revoked)"},
	// Failures of one variable (each also in a NOT_STARTING's failed_codes).
	{string(inject.CodeBadReference), "error", "a malformed reference, or a value one typo away from one (`vualt://`): exit 65"},
	{string(inject.CodeSecretNotFound), "error", "the secret, version or file does not exist: exit 65"},
	{string(inject.CodeKeyNotFound), "error", "the selected key or JSON pointer does not exist (or is JSON `null`): exit 65"},
	{string(inject.CodeBadData), "error", "the value cannot be used: a NUL byte, not JSON for a selector, a directory, a loop of links: exit 65"},
	{string(inject.CodeTooLarge), "error", "a value larger than Linux passes in an environment variable (128 KiB), or an environment too large in all: exit 65"},
	{string(inject.CodeConflict), "error", "`NAME` and `NAME_FILE` both set: exit 65"},
	{string(inject.CodePermissionDenied), "error", "the store refused access to the secret: exit 77"},
	{string(inject.CodeAuthFailed), "error", "logging in to the store failed, or its credentials were refused: exit 77"},
	{string(inject.CodeProviderUnavailable), "error", "the store did not answer before the deadline (network errors, 5xx, 429, sealed): exit 69"},
	{string(inject.CodeProviderError), "error", "the store refused the request for another reason (a 4xx that says nothing more): exit 65"},
	{string(inject.CodeNotConfigured), "error", "the store is not configured, or its settings are wrong (no address, `http://` refused, an untrusted certificate): exit 64"},
	{string(inject.CodeUsage), "error", "a usage or settings error: exit 64"},
	{string(inject.CodeCanceled), "error", "SIGTERM or SIGINT stopped the start: exit 143 or 130"},
	{codeCommandNotFound, "error", "the command does not exist: exit 127, before any secret is fetched"},
	{codeCommandNotExec, "error", "the command cannot be executed: exit 126"},
	{codeCommandLookupTimeout, "error", "looking the command up did not finish before the deadline (a hung mount in `PATH`, a FIFO in the command's place): exit 69, never reported as not found"},
	// Vault.
	{vault.CodeLogin, "info", "logged in to Vault (AppRole, JWT, Kubernetes): `method`, `mount`, `ttl_s`"},
	{vault.CodeTokenRevoked, "info", "the login token was revoked before exec"},
	{vault.CodeTokenKept, "warn", "the login token was kept (dynamic secrets were read with it, and die with it): it expires with its TTL"},
	{vault.CodeMount, "debug", "what is mounted where a path is read (KV v1 or v2, another engine)"},
	{vault.CodeResponseWarning, "warn", "Vault's answer to a read carried warnings, logged as Vault wrote them"},
	{vault.CodeEnvIgnored, "warn", "a `VAULT_*` variable Vault's client library would act on is set, and has no effect here (the README's Vault section lists each)"},
	{vault.CodeTLSVerifyOff, "warn", "`VAULT_SKIP_VERIFY` turns the check of Vault's certificate off"},
	// AWS Secrets Manager.
	{awssm.CodeBatchRefused, "info", "`BatchGetSecretValue` is denied: each secret is read with `GetSecretValue` (allow `secretsmanager:BatchGetSecretValue` for one call per 20 secrets)"},
	{awssm.CodeBatchSplit, "debug", "a batch call failed as a whole: each of its secrets is read on its own to tell which"},
	{awssm.CodeWatchDescribe, "debug", "a secret `ListSecrets` does not list (another account's, shared by a resource policy) is watched with `DescribeSecret` (once per secret)"},
	// check's least-privilege review (shown by check, not logged).
	{codeAccessReviewFailed, "check", "the store refused to say what the credentials may do (Vault: `sys/capabilities-self`, `auth/token/lookup-self`)"},
	{vault.CodeTokenRoot, "check", "the Vault token holds the root policy"},
	{vault.CodeTokenNoExpiry, "check", "the Vault token never expires"},
	{vault.CodeTokenCanWrite, "check", "the Vault token may write, delete or destroy the secrets it reads"},
	{vault.CodeTokenCanList, "check", "the Vault token may list beyond the secrets it reads"},
	{vault.CodeTokenReadsBeyond, "check", "the Vault token may read secrets beyond the ones it reads"},
	{vault.CodeTokenCanAdmin, "check", "the Vault token may change policies, mounts or auth methods"},
	{awssm.CodeLongLivedKeys, "check", "the AWS credentials are long-lived access keys, not a role's temporary ones"},
	// The n8n guard.
	{n8n.CodeKeyMissing, "error or warn", "no `N8N_ENCRYPTION_KEY`: an error for a worker, a webhook processor or queue mode, a warning for a lone main"},
	{n8n.CodeKeyOnlyInSettings, "error or warn", "the key only in n8n's settings file: an error in a cluster"},
	{n8n.CodeKeyIsPath, "error", "the key holds a file path (n8n would take the path as the key): exit 78"},
	{n8n.CodeKeyIsReference, "error", "the key holds an unresolved reference: exit 78"},
	{n8n.CodeKeyWhitespace, "error", "white space around the key: exit 78"},
	{n8n.CodeKeyQuoted, "error or warn", "quotes around the key"},
	{n8n.CodeKeyNotUTF8, "error", "the key is not valid UTF-8 (Node.js would change it): exit 78"},
	{n8n.CodeKeyWeak, "warn", "a key shorter than 16 characters"},
	{n8n.CodeFingerprintMismatch, "error", "the key's fingerprint is not `N8N_SECRETS_EXPECT_KEY_FINGERPRINT`: exit 78"},
	{n8n.CodeSettingsKeyMismatch, "error", "n8n's settings file holds another key (n8n: \"Mismatching encryption keys\"): exit 78"},
	{n8n.CodeSettingsInvalid, "error", "n8n's settings file is not valid JSON: exit 78"},
	{n8n.CodeSettingsUnreadable, "error", "n8n's settings file cannot be read, or is not a regular file: exit 78"},
	{n8n.CodeSettingsReadable, "warn", "n8n's settings file is readable by other users"},
	{n8n.CodeSettingsSyncPlanned, "info", "with `N8N_SECRETS_N8N_SETTINGS=sync`, the settings file will be rewritten as the last step before exec (`check` never writes)"},
	{n8n.CodeSettingsSynced, "info", "the settings file was rewritten with the key: `path`, `old_fingerprint`, `n8n_key_fingerprint`"},
	{n8n.CodeSettingsSyncUnproved, "error", "with `N8N_SECRETS_N8N_SETTINGS=sync`, the settings file holds another key, and `N8N_ENCRYPTION_KEY` was not proved against n8n's database (check off, database unreachable, no tables, nothing encrypted, a refused start): the file is kept, exit 78"},
	{n8n.CodeSettingsSyncFailed, "error", "the settings file could not be rewritten (left as it was): exit 78"},
	{n8n.CodeEnvAccessBlocked, "info", "`N8N_BLOCK_ENV_ACCESS_IN_NODE` was unset: set to `true` in the child"},
	{n8n.CodeEnvAccessAllowed, "warn", "workflow expressions and Code nodes can read injected secrets (`N8N_BLOCK_ENV_ACCESS_IN_NODE=false`, or an allow-list naming them)"},
	{n8n.CodeEnvAccessAmbiguous, "warn", "`N8N_BLOCK_ENV_ACCESS_IN_NODE` is neither `true` nor `false`"},
	{n8n.CodeExecuteCommand, "warn", "workflows can use the Execute Command node, which reads the environment whatever `N8N_BLOCK_ENV_ACCESS_IN_NODE` says (`NODES_EXCLUDE` does not name it)"},
	// Supervise mode (N8N_SECRETS_MODE=supervise): the child, and what it runs with.
	{codeSuperviseStart, "info", "the secrets resolved and passed the guard: the command starts as a child (the same attributes as `EXEC`)"},
	{metrics.CodeListening, "info", "the metrics endpoint (`N8N_SECRETS_METRICS_ADDR`) listens: `addr`, `path`"},
	{metrics.CodeServeFailed, "warn", "the metrics endpoint stopped serving; the command runs on without it"},
	{supervise.CodeChildStarted, "info", "the command started as a child: `pid`, `supervisor_pid`, `policy`, `refresh_s`, `splay_s`, `grace_s`"},
	{supervise.CodeChildExited, "info", "the command exited for good: `exit` is the supervisor's exit code (128+N for signal N)"},
	{supervise.CodeChildStartFailed, "error", "the command could not be started (again): exit 126 or 127"},
	{supervise.CodeSignalForwarded, "info", "a signal was sent to the command (WINCH at debug level)"},
	{supervise.CodeSignalHeld, "info", "a TERM was not sent again to a command already stopping"},
	{supervise.CodeChangeScheduled, "info", "new values will be applied after the splay: `vars`, `reason`, `action`, `delay_ms`"},
	{supervise.CodeChangeIgnored, "warn", "new values, and `N8N_SECRETS_ON_CHANGE=none`: the command keeps the old ones"},
	{supervise.CodeChangeSignaled, "info", "new values, and `signal:NAME`: the command was signaled"},
	{supervise.CodeChangeExit, "info", "new values, and `exit`: the command is stopped and the supervisor exits 75"},
	{supervise.CodeChildStopping, "info", "the kill signal (`N8N_SECRETS_KILL_SIGNAL`, TERM by default) sent to the command, for a restart or an exit: `signal`, `grace_s`"},
	{supervise.CodeChildKilled, "warn", "the command outlived the kill timeout after the kill signal: killed"},
	{supervise.CodeChildRestarted, "info", "the command restarted with new values: `pid`, `old_pid`, `vars`, `reason`, `since_change_ms`"},
	{supervise.CodeRestartCanceled, "info", "a pending change was dropped: a stop signal, or the stores hold again what the command runs with (`why`)"},
	{supervise.CodeZombiesReaped, "debug", "orphaned processes reaped (as PID 1, or as a child subreaper)"},
	{supervise.CodeSubreaperFailed, "warn", "the supervisor could not register as a child subreaper"},
	{supervise.CodeCleanupTimeout, "error", "releasing leases and the login token at exit took too long"},
	{codeUpdateRefused, "error or warn", "a secret's new value did not resolve (once per failure; the secret is tried again on its own backoff, `retry_in_s`), or the guard refused new values: the command keeps running with the values it has"},
	{codeKeyChanged, "error", "`N8N_ENCRYPTION_KEY` has a new value in the store (logged once per new value): the command keeps the old key, the other secrets are still rolled out (`n8n_key_fingerprint`, `new_n8n_key_fingerprint`)"},
	{codeValuesUnchanged, "info", "new versions whose values the command already has: nothing to do"},
	{watch.CodeSecretChanged, "info", "a store serves a new version of a secret: `vars`, `scheme`, `path`"},
	{watch.CodeWatchFailed, "warn", "a store could not tell whether a secret changed, or does not answer at all (once until it recovers; asked again on a backoff): `error_code`, `retry_in_s`"},
	{watch.CodeWatchRecovered, "info", "asking a store about a secret works again (`down_s` after an outage)"},
	{watch.CodeWatchDenied, "warn", "the store refuses to describe a secret (Vault metadata, AWS `ListSecrets`): changes are detected by reading it"},
	{watch.CodeWatchByFetch, "debug", "the store keeps no versions of a secret (KV v1): changes are detected by reading it"},
	{watch.CodeLeaseRenewed, "info", "a dynamic secret's lease was renewed: `vars`, `ttl_s`"},
	{watch.CodeLeaseRenewFailed, "warn", "renewing a lease failed; tried again before it ends: `expires_in_s`"},
	{watch.CodeLeaseMaxTTL, "warn", "a lease reached its maximum TTL: new values are fetched before it ends"},
	{watch.CodeLeaseLost, "error", "the store no longer holds a lease the command uses: new values are fetched at once"},
	{watch.CodeLeaseRefetch, "info", "values whose leases end are fetched anew, for a restart before they expire: `vars`, `reason`"},
	{watch.CodeLeaseRevoked, "info", "a lease no process uses any more was revoked"},
	{watch.CodeLeaseRevokeFailed, "warn", "revoking a lease failed: it ends with its TTL"},
	{watch.CodeCredentialRenewed, "info", "the store's login token was renewed: `ttl_s`"},
	{watch.CodeCredentialRenewFailed, "warn", "renewing, or replacing, the store's login token failed; tried again"},
	{watch.CodeCredentialMaxTTL, "warn", "the login token reached its maximum TTL: a new login follows before it ends"},
	{watch.CodeCredentialRelogin, "info", "logged in again; the leased secrets read with the old token are fetched anew"},
	{watch.CodeCredentialNoExpiry, "debug", "the store's login token does not expire: nothing to renew"},
	{watch.CodeCredentialExpiring, "error", "a token given by the user cannot be replaced and will expire: `expires_in_s`"},
	{watch.CodeLeaseGone, "debug", "a lease no process uses had already ended: nothing to revoke"},
	{watch.CodeLeaseRevokeDeferred, "info", "the store refused to revoke a lease now: it ends with the login token, revoked at exit"},
	{watch.CodeSecretRecovered, "info", "a secret that failed to resolve resolves again: `failed_s`"},
	{vault.CodeNamespaceIgnored, "warn", "`VAULT_NAMESPACE` is set, but the server is open-source Vault, which ignores namespaces and serves the root namespace"},
	{vault.CodeSecretIDUnwrapped, "info", "a response-wrapped AppRole secret id was checked (`creation_path`) and unwrapped"},
	{vault.CodeWrapPathMismatch, "error", "a wrapped secret id was not created at `VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH`: not unwrapped (`expected`, `found`)"},
	{vault.CodeLimitedToken, "debug or warn", "the Vault token's uses are limited (`num_uses`): no speculative reads; in supervise mode every request spends one"},
	// The key against n8n's database: the check before start, verify-key, rekey.
	{rekey.CodeKeyDBMismatch, "error", "values in n8n's database do not decrypt with the key (with neither key, for rekey): exit 78, n8n not started"},
	{rekey.CodeKeyDBVerified, "info", "the key decrypts what was checked (the check before start, verify-key)"},
	{rekey.CodeDBUnreachable, "error or warn", "n8n's database did not answer: a warning before start under `N8N_SECRETS_VERIFY_KEY=auto`, exit 69 under `on` and for the key commands"},
	{rekey.CodeDBAuth, "error or warn", "n8n's database refused the credentials: exit 77 for the key commands"},
	{rekey.CodeDBSettings, "error or warn", "n8n's database variables (`DB_TYPE`, `DB_POSTGRESDB_*`, `DB_SQLITE_*`) are invalid, or the SQLite file does not exist"},
	{rekey.CodeDBNoTables, "error or warn", "the database the variables name holds none of n8n's tables (another database, schema or `DB_TABLE_PREFIX` than n8n's): nothing was verified, exit 64 for verify-key; before start a warning (an error under `on` for a worker or webhook processor)"},
	{rekey.CodeDataKeyUnreadable, "warn", "before start: a data key of `deployment_key` that the key does not unwrap while the others do (n8n 2.40 starts and warns too); values under it cannot be read: `verify-key` names them"},
	{rekey.CodeDBHotJournal, "error or warn", "a hot rollback journal beside the SQLite database (an interrupted write): read-only commands cannot read it until a writer (n8n) rolls it back: exit 69; a warning before start under `auto`"},
	{rekey.CodeDBInUse, "error", "rekey refused: another process (n8n) holds the database; stop every node first: exit 78"},
	{rekey.CodeDBError, "error", "a query on n8n's database failed (schema or data not as n8n makes them): exit 65"},
	{rekey.CodeRekeyRefused, "error", "rekey cannot do what was asked on this database (`--rewrap-only` on legacy values, the same key twice): exit 64"},
	{rekey.CodeRekeyCheckFailed, "error", "re-encrypted values did not decrypt with the new key: the transaction was rolled back, nothing written"},
	{rekey.CodeRekeyDone, "info", "rekey committed (`--apply`) or finished a dry run: `changes`, `n8n_key_fingerprint` of the new key"},
	{rekey.CodeKeyOnArgv, "error", "a literal key on the command line (readable in /proc) was refused: give a reference"},
	{rekey.CodeRekeyed, "debug", "one value re-encrypted: location and row id, never the value"},
	{rekey.CodeBatch, "debug", "one batch of rows read by verify-key or rekey"},
	// install: the binary copied into a volume (an init container).
	{install.CodeInstalled, "info", "`install DIR` copied the binary: `path`, `bytes`, `sha256`, `replaced`, `version`"},
	{install.CodeRefused, "error", "`install DIR` refused: DIR is not a directory (or is a link), or what is there is not a copy of n8n-secrets: exit 73, nothing written"},
	{install.CodeFailed, "error", "`install DIR` could not read the binary or write the copy: exit 73, nothing left behind"},
	{install.CodeNoExec, "warn", "`install DIR`: DIR is on a noexec mount, so the copy cannot be run from it"},
}

var codesCommand = &command{
	name: "codes", usage: "[--json]",
	summary: "list the stable codes of the logs, for alert rules",
	about: `Prints every stable code a log line can carry, with its level and its
meaning: for whoever writes alert rules on the logs.`,
	setup: func() ([]*cmdline.Flag, runFunc) {
		var asJSON bool
		return []*cmdline.Flag{boolFlag("json", "print the list as JSON", &asJSON)},
			func(s *settings, _, _ []string, _ []int) int { return codesCmd(asJSON) }
	},
}

// codesCmd prints every stable code with its level and meaning: a table,
// or JSON with --json, for whoever writes alert rules on the logs.
func codesCmd(asJSON bool) int {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(codeTable)
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tLEVEL\tMEANING")
	for _, c := range codeTable {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Code, c.Level, strings.ReplaceAll(c.Meaning, "`", ""))
	}
	_ = tw.Flush()
	return 0
}
