package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// verifyKeyReport is `verify-key --json`.
type verifyKeyReport struct {
	OK          bool                `json:"ok"`
	Fingerprint string              `json:"fingerprint,omitempty"`
	Code        string              `json:"code,omitempty"`
	Error       string              `json:"error,omitempty"`
	Report      *rekey.VerifyReport `json:"report,omitempty"`
}

var verifyKeyCommand = &command{
	name: "verify-key", usage: "[flags] [--json]",
	summary: "decrypt every encrypted value in n8n's database with\nN8N_ENCRYPTION_KEY; counts and ids, never a value",
	about: `Resolves N8N_ENCRYPTION_KEY and n8n's database variables (DB_TYPE,
DB_POSTGRESDB_*, DB_SQLITE_*, DB_TABLE_PREFIX) and decrypts every encrypted
value in n8n's database with the key: counts per table and format, and the
ids of what does not decrypt; never a value. It only reads. Exit 0, 78 on a
mismatch, 69 when the database is unreachable.`,
	settings: true,
	setup: func() ([]*cmdline.Flag, runFunc) {
		var asJSON bool
		return []*cmdline.Flag{boolFlag("json", "print the report as JSON", &asJSON)},
			func(s *settings, environ, _ []string, _ []int) int { return verifyKeyCmd(s, environ, asJSON) }
	},
}

// verifyKeyCmd decrypts every encrypted value in n8n's database with the
// resolved N8N_ENCRYPTION_KEY and prints counts per table and format, and
// the ids of what does not decrypt; never a value. Exit 0, 78 on a
// mismatch, 69 when the database is unreachable.
func verifyKeyCmd(s *settings, environ []string, asJSON bool) int {
	log := s.logger()
	ctx, sigs, done := begin(s)
	defer done()
	env, code := resolveForDB(ctx, s, environ, nil, log)
	if code != 0 {
		return code
	}
	key := n8n.KeyOf(env)
	if key == "" {
		return fail(s, missingKey(environ))
	}
	out := verifyKeyReport{Fingerprint: n8n.Fingerprint(key)}
	rep, err := verifyDB(ctx, env, key, log)
	out.Report = rep
	code = 0
	if err != nil {
		out.Code, out.Error, code = rekey.CodeOf(err).Name(), err.Error(), dbExit(sigs, err)
		log.Error("verify-key", "code", rekey.CodeOf(err), "error", err.Error(), "exit", code)
	}
	out.OK = err == nil
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return code
	}
	if rep != nil {
		fmt.Printf("database: %s (n8n %s)\nkey fingerprint: %s\n\n", rep.Database, rep.Layout, out.Fingerprint)
		printCounts(rep.Counts, false)
		for _, u := range rep.Unverified {
			fmt.Printf("\nnot verified: %s: %d execution(s), %d cbc and %d prefixed value(s): %s\n", u.Location, u.Rows, u.CBC, u.Prefixed, u.Why)
		}
	}
	switch {
	case err == nil:
		fmt.Println("\nok: every encrypted value decrypts with this key")
	case errors.Is(err, rekey.ErrMismatch):
		fmt.Printf("\nN8N_KEY_DB_MISMATCH: %d value(s) do not decrypt with this key (exit %d)\n", rep.Failed, code)
	default:
		fmt.Printf("\n%s: %v (exit %d)\n", out.Code, err, code)
	}
	return code
}

func verifyDB(ctx context.Context, env map[string]string, key string, log *slog.Logger) (*rekey.VerifyReport, error) {
	cfg, err := store.FromEnv(env)
	if err != nil {
		return nil, err
	}
	if len(cfg.Ignored) > 0 {
		log.Warn("n8n ignores these values, and so does verify-key", "code", rekey.CodeDBSettings, "ignored", cfg.Ignored)
	}
	db, err := store.Open(ctx, cfg, store.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return rekey.Verify(ctx, db, key, log)
}

// maxListed is how many failed ids per location the table lists.
const maxListed = 20

// printCounts prints a table of counts: verify's columns, or rekey's.
func printCounts(cs []rekey.Count, forRekey bool) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	if forRekey {
		fmt.Fprintln(tw, "LOCATION\tFORMAT\tVALUES\tREKEY\tDONE\tKEPT\tFAILED")
	} else {
		fmt.Fprintln(tw, "LOCATION\tFORMAT\tVALUES\tOK\tFAILED")
	}
	for _, c := range cs {
		if forRekey {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", c.Location, c.Format, c.Values, c.Rekey, c.Done, c.Kept, len(c.Failed))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", c.Location, c.Format, c.Values, c.OK, len(c.Failed))
		}
	}
	_ = tw.Flush()
	for _, c := range cs {
		for i, f := range c.Failed {
			if i == maxListed {
				fmt.Printf("  does not decrypt: %s: and %d more (--json lists them all)\n", c.Location, len(c.Failed)-i)
				break
			}
			fmt.Printf("  does not decrypt: %s %s\n", c.Location, f)
		}
	}
}

// dbExit is the exit code of a failure of packages store and rekey: its
// code's (rekey.CodeOf), or 128+signal for a run a signal stopped, as the
// default mode exits.
func dbExit(sigs *signals, err error) int {
	return exitOf(sigs.received(), false, rekey.CodeOf(err))
}

// dbVar reports the variables the key commands resolve: the key, n8n's
// database variables and where n8n's user folder is, and what n8n's
// driver reads besides (node-postgres: PG*, USER; Node.js's TLS:
// NODE_EXTRA_CA_CERTS, NODE_TLS_REJECT_UNAUTHORIZED); plus the providers'
// own, like fingerprint.
func dbVar(name string) bool {
	base := strings.TrimSuffix(name, "_FILE")
	switch name {
	case "HOME", "USER", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED":
		return true
	}
	return base == n8n.EnvKey || strings.HasPrefix(base, "DB_") || base == n8n.EnvUserFolder || strings.HasPrefix(name, "PG")
}

// resolveForDB resolves, through prepare like every command, only the
// variables the key commands need, plus extra (name=value entries the
// command adds, such as the references of rekey's keys), and returns the
// resolved environment, or an exit code after logging the failures.
func resolveForDB(ctx context.Context, s *settings, environ, extra []string, log *slog.Logger) (map[string]string, int) {
	var only []string
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); dbVar(name) || ownedVars.Match(name) {
			only = append(only, kv)
		}
	}
	only = append(only, extra...)
	// rekey's two keys are read wherever their NAME_FILE is: the operator
	// named the variable (--to NAME with NAME_FILE set). n8n's own
	// variables (DB_*, N8N_ENCRYPTION_KEY) are left to n8nenv.ReadFiles
	// below, which reads them as n8n does.
	ds := *s
	ds.FileVars = strings.Join([]string{s.FileVars, rekeyFromVar, rekeyToVar}, ",")
	o := prepare(ctx, &ds, only, nil, log, true)
	for _, err := range o.errs {
		// rekey's keys are resolved as variables of their own: the error
		// names the flag the operator typed too.
		l := log
		var ve *inject.VarError
		if errors.As(err, &ve) && (ve.Var == rekeyFromVar || ve.Var == rekeyToVar) {
			l = log.With("flag", map[string]string{rekeyFromVar: "--from", rekeyToVar: "--to"}[ve.Var])
		}
		o.logFailure(l, err)
	}
	if len(o.errs) > 0 {
		// A signal that stopped the resolution exits 128+signal (143 for
		// SIGTERM), as the default mode does, not CANCELED's 130.
		if sigs, ok := ctx.Value(signalsKey{}).(*signals); ok {
			if sig := sigs.received(); sig != 0 {
				return nil, exitOf(sig, false)
			}
		}
		return nil, exitOf(0, false, failedCodes(o.errs)...)
	}
	// The environment as n8n reads it: the NAME_FILE variables the
	// resolution left to n8n (outside the secrets mounts) read as n8n
	// reads them, trimmed.
	env, err := n8nenv.ReadFiles(ctx, envMap(o.env), n8nenv.Names)
	if err != nil {
		log.Error("n8n's variables cannot be read as n8n reads them", "code", rekey.CodeDBSettings, "error", err.Error(), "exit", exitOf(0, false, rekey.CodeDBSettings))
		return nil, exitOf(0, false, rekey.CodeDBSettings)
	}
	return env, 0
}

var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keyRef turns a key flag's value into an entry for resolveForDB under the
// name as: a reference (vault://, awssm://, file:) is resolved like any
// variable; a variable name takes that variable (or its _FILE). Anything
// else is a key typed on the command line, readable by every user in
// /proc: refused, without repeating it.
//
// src says where the key comes from, for an error about it: the variable's
// name, or "the reference's value"; never the key.
func keyRef(flagName, ref, as string, environ map[string]string) (entries []string, src string, err error) {
	switch {
	case ref == "":
		return nil, "", usagef("give a reference: --"+flagName+" vault://secret/n8n/core?version=4#encryption_key", "--%s: missing", flagName)
	case stores.IsReference(ref):
		if _, err := stores.Parse(ref); err != nil {
			return nil, "", usagef("", "--%s: %v", flagName, err)
		}
		return []string{as + "=" + ref}, "the reference's value", nil
	case varNameRe.MatchString(ref):
		if v, ok := environ[ref]; ok {
			return []string{as + "=" + v}, "variable " + ref, nil
		}
		if v, ok := environ[ref+"_FILE"]; ok {
			// Read wherever the file is, as resolveForDB does for the
			// key variables: the operator named it.
			return []string{as + "_FILE=" + v}, "the file named by " + ref + "_FILE", nil
		}
		hint := "name a variable that is set, or give a reference"
		if h := settingsKeyHint(environ); h != "" && ref == n8n.EnvKey {
			hint = h + "; or " + hint
		}
		return nil, "", usagef(hint, "--%s: names no variable set in the environment", flagName)
	}
	return nil, "", usagef("argv is readable by every user in /proc: give a reference (vault://…, awssm://…, file:…) or the name of a variable holding the key",
		"--%s: a literal key on the command line is refused", flagName)
}

// missingKey is the usage error of a key command run without
// N8N_ENCRYPTION_KEY: it says whether the variable (or its _FILE) is unset
// or resolved to an empty key.
func missingKey(environ []string) error {
	envm := envMap(environ)
	_, set := envm[n8n.EnvKey]
	file, fileSet := envm[n8n.EnvKey+"_FILE"]
	switch {
	case set:
		return usagef("", "%s: the key is empty", n8n.EnvKey)
	case fileSet && file != "":
		return usagef("", "%s: the key is empty (the file %s_FILE names)", n8n.EnvKey, n8n.EnvKey)
	}
	hint := "set N8N_ENCRYPTION_KEY (a reference such as vault://secret/n8n/core#encryption_key) or N8N_ENCRYPTION_KEY_FILE"
	if h := settingsKeyHint(envm); h != "" {
		hint = h
	}
	return usagef(hint, "%s: not set: there is no key to check", n8n.EnvKey)
}

// settingsKeyHint is the hint for a key command run without
// N8N_ENCRYPTION_KEY when n8n's settings file holds a key: n8n then runs
// with that one, and a file: reference reads it. "" when it holds none.
func settingsKeyHint(environ map[string]string) string {
	path, err := n8n.SettingsPath(environ)
	if err != nil || !n8n.SettingsHoldsKey(path) {
		return ""
	}
	ref := "file://" + path + "#encryptionKey"
	return "n8n runs with the key in its settings file " + path + ": name it with N8N_ENCRYPTION_KEY=" + ref +
		" (for rekey: --from " + ref + "), and keep a copy of it in the secret store"
}
