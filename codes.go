package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/start"

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

// mainCodes is the set of the command's own event codes: the start
// sequence's are in package start, the core's failure codes in package
// inject and the guard's in package n8n, each package's in its own set.
// Every log line carries one (the "code" attribute), so that an alert can
// match it.
var mainCodes logcode.Set

// The command's own codes.
var (
	// codeAccessReviewFailed: an access review could not run (the store refused to say what the credentials may do).
	codeAccessReviewFailed = mainCodes.New("ACCESS_REVIEW_FAILED", "check", 0, "the store refused to say what the credentials may do (Vault: `sys/capabilities-self`, `auth/token/lookup-self`)")
	// codeSuperviseStart: the secrets resolved and the guard passed; the command starts as a child.
	codeSuperviseStart = mainCodes.New("SUPERVISE_START", "info", 0, "the secrets resolved and passed the guard: the command starts as a child (the same attributes as `EXEC`)")
)

// codeTable lists every code a log line can carry, with its level, exit
// code and meaning: the start sequence's and the command's own, then each package's (a code two
// lists share at its first place). `codes` prints it, and the README's
// tables of codes and of exit codes are generated from it and from
// exitTable (TestREADMECodes). A function, so that what it holds does not
// depend on the order package variables are initialized in.
var codeTable = sync.OnceValue(func() []logcode.Code {
	return logcode.Table(start.Codes(), settings.Codes(), mainCodes.Codes(), inject.Codes(), vault.Codes(), awssm.Codes(), awscfg.Codes(), n8n.Codes(),
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
			func(s *settings.Settings, _ environ.Env, _ []string, _ []int) error { return codesCmd(asJSON) }
	},
}

// codesCmd prints every stable code with its level and meaning: a table,
// or JSON with --json, for whoever writes alert rules on the logs.
func codesCmd(asJSON bool) error {
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
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tLEVEL\tMEANING")
	for _, c := range codeTable() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name(), c.Level(), strings.ReplaceAll(c.Meaning(), "`", ""))
	}
	_ = tw.Flush()
	return nil
}
