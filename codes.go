package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/install"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
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

// mainCodes is the set of the command's own event codes; the core's failure
// codes are in package inject and the guard's in package n8n, each
// package's in its own set. Every log line carries one (the "code"
// attribute), so that an alert can match it. They are declared here, in the
// order of the README's table.
var mainCodes logcode.Set

// The command's own codes.
var (
	// codeResolved: a variable got its value (info).
	codeResolved = mainCodes.New("RESOLVED", "info", 0, "a variable got its value: `var`, `scheme`, `path`, `selector`, `version`, `duration_ms`, `attempts` (never the value); `reference` for the n-th `${…}` of a value, `from` and `item` for a key of an `N8N_SECRETS_ENV_FROM` secret")
	// codeOptionalMissing: an optional secret is missing: the variable is left out (warn).
	codeOptionalMissing = mainCodes.New("OPTIONAL_MISSING", "warn", 0, "an `optional=true` secret or key is missing: the variable is left out")
	// codeForeignReference: a variable holds another tool's reference (op://, ref+vault://, …), passed on as it is (warn).
	codeForeignReference = mainCodes.New("FOREIGN_REFERENCE", "warn", 0, "a variable's whole value is another tool's reference (`op://`, `ref+vault://`, `sm://`, an AWS ARN without `awssm://`): passed on as it is; `var`, `tool`, `hint`. A variable in `N8N_SECRETS_SKIP` is not looked at")
	// codeEnvFromShadowed: a key of an env-from secret is set already; the value set first is kept (info).
	codeEnvFromShadowed = mainCodes.New("ENV_FROM_SHADOWED", "info", 0, "a key of an `N8N_SECRETS_ENV_FROM` secret is set already (in the environment, or by an earlier item): the value set first is kept; `var`, `item`, `kept`")
	// codeEnvFileVarUnset: a .env file interpolates a variable that is not set: it is taken as empty, as Compose does (warn).
	codeEnvFileVarUnset = mainCodes.New("ENV_FILE_VAR_UNSET", "warn", 0, "a `--env-file` file interpolates a variable that is not set: taken as empty, as Compose does; `file`, `line`, `var`")
	// codeFileVarsLeft: NAME_FILE variables whose file is outside the secrets mounts, passed on unresolved (info).
	codeFileVarsLeft = mainCodes.New("FILE_VARS_LEFT", "info", 0, "`NAME_FILE` variables whose file is outside the secrets mounts, passed on unresolved (`vars`)")
	// codeExec: the summary just before exec (info).
	codeExec = mainCodes.New("EXEC", "info", 0, "the summary just before exec: `command`, `variables`, `fetches`, `providers`, `n8n_role`, `n8n_key_fingerprint`, `duration_ms`, `pid`")
	// codeNotStarting: the start is refused; failed_codes says why (error).
	codeNotStarting = mainCodes.New("NOT_STARTING", "error", 0, "the start is refused: `failed_codes` lists why, with `command`, `n8n_role`, `exit`; one per refused start, the event to alert on")
	// codeCleanupFailed: a provider could not release what it held, such as revoking a login token (warn); package watch logs it too.
	codeCleanupFailed = mainCodes.Share(watch.CodeCleanupFailed)
	// codeCommandNotFound: the command does not exist (127).
	codeCommandNotFound = mainCodes.New("COMMAND_NOT_FOUND", "error", 127, "the command does not exist: exit 127, before any secret is fetched")
	// codeCommandNotExec: the command cannot be executed (126).
	codeCommandNotExec = mainCodes.New("COMMAND_NOT_EXECUTABLE", "error", 126, "the command cannot be executed: exit 126")
	// codeCommandLookupTimeout: looking the command up did not finish before the deadline (69).
	codeCommandLookupTimeout = mainCodes.New("COMMAND_LOOKUP_TIMEOUT", "error", 69, "looking the command up did not finish before the deadline (a hung mount in `PATH`, a FIFO in the command's place): exit 69, never reported as not found")
	// codeAccessReviewFailed: an access review could not run (the store refused to say what the credentials may do).
	codeAccessReviewFailed = mainCodes.New("ACCESS_REVIEW_FAILED", "check", 0, "the store refused to say what the credentials may do (Vault: `sys/capabilities-self`, `auth/token/lookup-self`)")
	// codeSuperviseStart: the secrets resolved and the guard passed; the command starts as a child.
	codeSuperviseStart = mainCodes.New("SUPERVISE_START", "info", 0, "the secrets resolved and passed the guard: the command starts as a child (the same attributes as `EXEC`)")
	// codeUpdateRefused: new values failed to resolve or failed the n8n guard; the command keeps running with the old ones; package watch logs it too.
	codeUpdateRefused = mainCodes.Share(watch.CodeUpdateRefused)
	// codeKeyChanged: N8N_ENCRYPTION_KEY has a new value; the command keeps the old one (change it with every node stopped).
	codeKeyChanged = mainCodes.New("N8N_KEY_CHANGED", "error", 0, "`N8N_ENCRYPTION_KEY` has a new value in the store (logged once per new value): the command keeps the old key, the other secrets are still rolled out (`n8n_key_fingerprint`, `new_n8n_key_fingerprint`)")
	// codeValuesUnchanged: a store has new versions whose values are those the command has; nothing to do.
	codeValuesUnchanged = mainCodes.New("VALUES_UNCHANGED", "info", 0, "new versions whose values the command already has: nothing to do")
)

// codeTable lists every code a log line can carry, with its level, exit
// code and meaning: the command's own, then each package's (a code two
// lists share at its first place). `codes` prints it, and the README's
// tables of codes and of exit codes are generated from it and from
// exitTable (TestREADMECodes). A function, so that what it holds does not
// depend on the order package variables are initialized in.
var codeTable = sync.OnceValue(func() []logcode.Code {
	return logcode.Table(mainCodes.Codes(), inject.Codes(), vault.Codes(), awssm.Codes(), awscfg.Codes(), n8n.Codes(),
		metrics.Codes(), supervise.Codes(), watch.Codes(), rekey.Codes(), install.Codes())
})

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
	for _, c := range codeTable() {
		if c.Exit() == e.Code || (e.Signal != 0 && c.Exit() == logcode.ExitSignal) {
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
			func(s *settings, _, _ []string, _ []int) int { return codesCmd(asJSON) }
	},
}

// codesCmd prints every stable code with its level and meaning: a table,
// or JSON with --json, for whoever writes alert rules on the logs.
func codesCmd(asJSON bool) int {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		type row struct {
			Code    string `json:"code"`
			Level   string `json:"level"`
			Meaning string `json:"meaning"`
		}
		rows := make([]row, 0, len(codeTable()))
		for _, c := range codeTable() {
			rows = append(rows, row{c.Name(), c.Level(), c.Meaning()})
		}
		_ = enc.Encode(rows)
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tLEVEL\tMEANING")
	for _, c := range codeTable() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name(), c.Level(), strings.ReplaceAll(c.Meaning(), "`", ""))
	}
	_ = tw.Flush()
	return 0
}
