package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
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

// verifyKeyCmd decrypts every encrypted value in n8n's database with the
// resolved N8N_ENCRYPTION_KEY and prints counts per table and format, and
// the ids of what does not decrypt; never a value. Exit 0, 78 on a
// mismatch, 69 when the database is unreachable.
func verifyKeyCmd(s *settings, environ, args []string) int {
	var asJSON bool
	if err := parseSub("verify-key", s, args, func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "") }); err != nil {
		return fail(s, err)
	}
	log := s.logger()
	ctx, sigs, done := begin(s)
	defer done()
	env, code := resolveForDB(ctx, s, environ, nil, log)
	if code != 0 {
		return code
	}
	key := env[n8n.EnvKey]
	if key == "" {
		return fail(s, missingKey(environ))
	}
	out := verifyKeyReport{Fingerprint: n8n.Fingerprint(key)}
	rep, err := verifyDB(ctx, env, key, log)
	out.Report = rep
	code = 0
	if err != nil {
		out.Code, out.Error, code = rekey.CodeOf(err), err.Error(), dbExit(sigs, err)
		log.Error("verify-key", "code", out.Code, "error", err.Error(), "exit", code)
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
	case err == nil && rep.Layout == rekey.LayoutNo:
		fmt.Println("\nok: n8n's tables are not in this database yet: nothing to verify")
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

// dbExit maps an error of packages store and rekey to an exit code; a
// run stopped by a signal exits 128+signal, as the default mode does.
func dbExit(sigs *signals, err error) int {
	if sig := sigs.received(); sig != 0 {
		return 128 + int(sig)
	}
	switch {
	case errors.Is(err, rekey.ErrMismatch), errors.Is(err, store.ErrHeld):
		return inject.ExitConfig
	case errors.Is(err, store.ErrUnavailable):
		return inject.ExitUnavailable
	case errors.Is(err, store.ErrAuth):
		return inject.ExitNoPerm
	case errors.Is(err, store.ErrConfig), errors.Is(err, rekey.ErrRefused):
		return inject.ExitUsage
	}
	return inject.ExitData
}

// dbVars are the variables the key commands resolve: the key, n8n's
// database variables and where n8n's user folder is; plus the providers'
// own, like fingerprint.
func dbVar(name string) bool {
	base := strings.TrimSuffix(name, "_FILE")
	return base == n8n.EnvKey || strings.HasPrefix(base, "DB_") || base == n8n.EnvUserFolder || name == "HOME"
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
	// n8n reads the database's NAME_FILE variables itself wherever they
	// are: so do the key commands, mounts or not; rekey's two keys too,
	// whose variable the operator named (--to NAME with NAME_FILE set).
	ds := *s
	ds.FileVars = strings.Join([]string{s.FileVars, "DB_*", n8n.EnvKey, rekeyFromVar, rekeyToVar}, ",")
	o := prepare(ctx, &ds, only, nil, log, true)
	for _, err := range o.errs {
		o.logFailure(log, err)
	}
	if len(o.errs) > 0 {
		// A signal that stopped the resolution exits 128+signal (143 for
		// SIGTERM), as the default mode does, not CANCELED's 130.
		if sigs, ok := ctx.Value(signalsKey{}).(*signals); ok {
			if sig := sigs.received(); sig != 0 {
				return nil, 128 + int(sig)
			}
		}
		return nil, inject.ExitCodeOf(o.errs)
	}
	return envMap(o.env), 0
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
	case inject.IsReference(ref):
		if _, err := inject.ParseReference(ref); err != nil {
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
		return nil, "", usagef("name a variable that is set, or give a reference", "--%s: names no variable set in the environment", flagName)
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
	return usagef("set N8N_ENCRYPTION_KEY (a reference such as vault://secret/n8n/core#encryption_key) or N8N_ENCRYPTION_KEY_FILE",
		"%s: not set: there is no key to check", n8n.EnvKey)
}
