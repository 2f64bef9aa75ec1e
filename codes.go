package main

import (
	"encoding/json"
	"fmt"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"os"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/install"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
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

// mainCodes are the codes of the command itself; each package exports its
// own (inject.Codes, vault.Codes, …).
var mainCodes = []logcode.Code{
	{Name: codeResolved, Level: "info", Meaning: "a variable got its value: `var`, `scheme`, `path`, `selector`, `version`, `duration_ms`, `attempts` (never the value); `reference` for the n-th `${…}` of a value, `from` and `item` for a key of an `N8N_SECRETS_ENV_FROM` secret"},
	{Name: codeOptionalMissing, Level: "warn", Meaning: "an `optional=true` secret or key is missing: the variable is left out"},
	{Name: codeForeignReference, Level: "warn", Meaning: "a variable's whole value is another tool's reference (`op://`, `ref+vault://`, `sm://`, an AWS ARN without `awssm://`): passed on as it is; `var`, `tool`, `hint`. A variable in `N8N_SECRETS_SKIP` is not looked at"},
	{Name: codeEnvFromShadowed, Level: "info", Meaning: "a key of an `N8N_SECRETS_ENV_FROM` secret is set already (in the environment, or by an earlier item): the value set first is kept; `var`, `item`, `kept`"},
	{Name: codeEnvFileVarUnset, Level: "warn", Meaning: "a `--env-file` file interpolates a variable that is not set: taken as empty, as Compose does; `file`, `line`, `var`"},
	{Name: codeFileVarsLeft, Level: "info", Meaning: "`NAME_FILE` variables whose file is outside the secrets mounts, passed on unresolved (`vars`)"},
	{Name: codeExec, Level: "info", Meaning: "the summary just before exec: `command`, `variables`, `fetches`, `providers`, `n8n_role`, `n8n_key_fingerprint`, `duration_ms`, `pid`"},
	{Name: codeNotStarting, Level: "error", Meaning: "the start is refused: `failed_codes` lists why, with `command`, `n8n_role`, `exit`; one per refused start, the event to alert on"},
	{Name: codeCleanupFailed, Level: "warn", Meaning: "a provider could not release what it held (a Vault login token not revoked)"},
	{Name: codeCommandNotFound, Level: "error", Exit: 127, Meaning: "the command does not exist: exit 127, before any secret is fetched"},
	{Name: codeCommandNotExec, Level: "error", Exit: 126, Meaning: "the command cannot be executed: exit 126"},
	{Name: codeCommandLookupTimeout, Level: "error", Exit: 69, Meaning: "looking the command up did not finish before the deadline (a hung mount in `PATH`, a FIFO in the command's place): exit 69, never reported as not found"},
	{Name: codeAccessReviewFailed, Level: "check", Meaning: "the store refused to say what the credentials may do (Vault: `sys/capabilities-self`, `auth/token/lookup-self`)"},
	{Name: codeSuperviseStart, Level: "info", Meaning: "the secrets resolved and passed the guard: the command starts as a child (the same attributes as `EXEC`)"},
	{Name: codeUpdateRefused, Level: "error or warn", Meaning: "a secret's new value did not resolve (once per failure; the secret is tried again on its own backoff, `retry_in_s`), or the guard refused new values: the command keeps running with the values it has"},
	{Name: codeKeyChanged, Level: "error", Meaning: "`N8N_ENCRYPTION_KEY` has a new value in the store (logged once per new value): the command keeps the old key, the other secrets are still rolled out (`n8n_key_fingerprint`, `new_n8n_key_fingerprint`)"},
	{Name: codeValuesUnchanged, Level: "info", Meaning: "new versions whose values the command already has: nothing to do"},
}

// codeTable lists every code a log line can carry, with its level, exit
// code and meaning: the command's own, then each package's. `codes` prints
// it, and the README's tables of codes and of exit codes are generated from
// it and from exitTable (TestREADMECodes).
var codeTable = slices.Concat(mainCodes, inject.Codes, vault.Codes, awssm.Codes, n8n.Codes,
	metrics.Codes, supervise.Codes, watch.Codes, rekey.Codes, install.Codes)

// codeIndex is codeTable by name; building it panics on a name declared
// twice.
var codeIndex = logcode.Index(codeTable)

// exitTable lists the exit codes before exec (after exec the code is the
// command's), and when: the README's table of exit codes is generated from
// it, with the codes of codeTable whose Exit is each row's.
var exitTable = []logcode.Exit{
	{Code: inject.ExitUsage, When: "usage or settings error: a bad setting or flag, a provider not configured, plain `http://` to a store off loopback, an untrusted certificate, a credential with a local mistake (`VAULT_TOKEN` ending in a newline)"},
	{Code: inject.ExitData, When: "a bad reference (or one typo away from one), a missing secret, version or key, bad data (a NUL byte, not JSON for a selector, a loop of links), a value too large for an environment, `NAME` and `NAME_FILE` both set, a store's refusal that says nothing more (a 4xx)"},
	{Code: inject.ExitUnavailable, When: "a store unreachable until the deadline: transient faults only (connection refused or reset, timeouts, DNS, 5xx, 429, a sealed Vault); n8n's database unreachable (`verify-key`, `rekey`, the check before start under `N8N_SECRETS_VERIFY_KEY=on`); looking the command up did not finish before the deadline (a hung mount in `PATH`)"},
	{Code: inject.ExitNoPerm, When: "authentication failed or permission denied"},
	{Code: inject.ExitConfig, When: "the n8n guard refused to start; the key does not match n8n's database (the check before start, `verify-key`, `rekey`); `rekey --apply` found the database in use"},
	{Code: exitCantCreate, When: "`install DIR` wrote nothing: DIR is not a directory (or is a symbolic link), what is already there is not a copy of n8n-secrets, or the copy could not be written"},
	{Code: inject.ExitNotExec, When: "the command is not executable (checked before any secret is fetched)"},
	{Code: inject.ExitNotFound, When: "the command is not found (checked before any secret is fetched)"},
	{Code: 128 + int(syscall.SIGINT), Signal: int(syscall.SIGINT), When: "stopped by SIGINT before exec (nothing is exec'd)"},
	{Code: 128 + int(syscall.SIGTERM), Signal: int(syscall.SIGTERM), When: "stopped by SIGTERM before exec (nothing is exec'd)"},
}

// exitCodes returns the codes of codeTable that stop a command with exit e.
func exitCodes(e logcode.Exit) []logcode.Code {
	var cs []logcode.Code
	for _, c := range codeTable {
		if c.Exit == e.Code || (e.Signal != 0 && c.Exit == logcode.ExitSignal) {
			cs = append(cs, c)
		}
	}
	return cs
}

var codesCommand = &command{
	name: "codes", usage: "[--json]",
	summary: "list the stable codes of the logs, for alert rules",
	about: `Prints every stable code a log line can carry, with its level and its
meaning: for whoever writes alert rules on the logs.`,
	setup: func() ([]*cmdline.Flag, runFunc) {
		var asJSON bool
		return []*cmdline.Flag{boolFlag("json", "print the list as JSON", &asJSON)},
			func(s *settings.Settings, _ environ.Env, _ []string, _ []int) error { return codesCmd(asJSON) }
	},
}

// codesCmd prints every stable code with its level and meaning: a table,
// or JSON with --json, for whoever writes alert rules on the logs.
func codesCmd(asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(codeTable)
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tLEVEL\tMEANING")
	for _, c := range codeTable {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Level, strings.ReplaceAll(c.Meaning, "`", ""))
	}
	_ = tw.Flush()
	return nil
}
