package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
)

// The variables rekey resolves its two keys into (never passed on: rekey
// execs nothing).
const (
	rekeyFromVar = "N8N_REKEY_FROM_KEY"
	rekeyToVar   = "N8N_REKEY_TO_KEY"
)

// exitSettingsNotRewritten is rekey's exit code when the database was
// rekeyed and committed but n8n's settings file could not be rewritten
// after it (--update-settings-file): sysexits' EX_CANTCREAT, apart from
// every code that means "nothing was written".
const exitSettingsNotRewritten = 73

// rekeyReport is `rekey --json`.
type rekeyReport struct {
	OK              bool          `json:"ok"`
	DryRun          bool          `json:"dry_run"`
	FromFingerprint string        `json:"from_fingerprint,omitempty"`
	ToFingerprint   string        `json:"to_fingerprint,omitempty"`
	Code            string        `json:"code,omitempty"`
	Error           string        `json:"error,omitempty"`
	Result          *rekey.Result `json:"result,omitempty"`
	// SettingsFile is what became of n8n's settings file.
	SettingsFile *settingsFileReport `json:"settings_file,omitempty"`
}

// settingsFileReport is n8n's settings file in rekey's report: where it
// is, which key it holds (never the key), what rekey did or would do.
type settingsFileReport struct {
	Path   string `json:"path"`
	Holds  string `json:"holds"`
	Action string `json:"action"`
}

// rekeyOpts are rekey's flags.
type rekeyOpts struct {
	to, from, signing                                              string
	apply, rewrapOnly, skip, asJSON, assumeStopped, updateSettings bool
}

var rekeyCommand = &command{
	name: "rekey", usage: "--to REF [--from REF] [--apply] [--rewrap-only] [--skip-undecryptable]\n[--assume-stopped] [--signing-secrets keep|regenerate] [--update-settings-file] [--json] [flags]",
	summary: "re-encrypt n8n's database under a new key (dry run\nunless --apply); REF: vault://…, awssm://…, file:…\nor a variable's name, never the key itself",
	about: `Re-encrypts n8n's database (what n8n encrypts with N8N_ENCRYPTION_KEY) from
the key --from names to the key --to names, in one transaction, checked
against the new key before it commits. A dry run unless --apply. A key is
given as a reference (vault://…, awssm://…, file:…) or the name of a
variable holding it, never on the command line itself. It refuses while n8n
holds the database.`,
	settings: true,
	setup: func() ([]*cmdline.Flag, runFunc) {
		o := &rekeyOpts{from: n8n.EnvKey, signing: rekey.SigningKeep}
		str := func(name, arg, help string, p *string) *cmdline.Flag {
			return &cmdline.Flag{Name: name, Arg: arg, Help: help, Set: func(v string, _ int) error { *p = v; return nil }}
		}
		return []*cmdline.Flag{
				str("to", "REF", "the new key: a reference or a variable's name", &o.to),
				str("from", "REF", "the key the database is under now (default N8N_ENCRYPTION_KEY)", &o.from),
				boolFlag("apply", "write (without it, a dry run)", &o.apply),
				boolFlag("rewrap-only", "re-wrap only n8n's data keys (deployment_key, 2.x databases): values untouched; not after a leak", &o.rewrapOnly),
				boolFlag("skip-undecryptable", "leave values that decrypt with neither key as they are", &o.skip),
				boolFlag("assume-stopped", "SQLite: every n8n node is stopped, also when the processes holding the file cannot all be seen", &o.assumeStopped),
				choiceFlag("signing-secrets", "n8n's signing secrets derived from the key", &o.signing, rekey.SigningKeep, rekey.SigningRegenerate),
				boolFlag("update-settings-file", "after the commit, write the new key into n8n's settings file (atomically, under the rules of N8N_SECRETS_N8N_SETTINGS=sync)", &o.updateSettings),
				boolFlag("json", "print the report as JSON", &o.asJSON),
			}, func(s *settings, environ, _ []string, _ []int) int {
				return rekeyCmd(s, environ, o)
			}
	},
}

// rekeyCmd re-encrypts n8n's database from --from (default
// N8N_ENCRYPTION_KEY) to --to; a dry run unless --apply.
func rekeyCmd(s *settings, environ []string, o *rekeyOpts) int {
	to, from, signing := o.to, o.from, o.signing
	apply, rewrapOnly, skip, asJSON, assumeStopped := o.apply, o.rewrapOnly, o.skip, o.asJSON, o.assumeStopped
	updateSettings := o.updateSettings
	if signing != rekey.SigningKeep && signing != rekey.SigningRegenerate {
		return fail(s, usagef("", "--signing-secrets: must be keep or regenerate"))
	}
	envm := envMap(environ)
	var extra []string
	srcs := map[string]string{}
	for _, k := range []struct{ flag, ref, as string }{{"from", from, rekeyFromVar}, {"to", to, rekeyToVar}} {
		kv, src, err := keyRef(k.flag, k.ref, k.as, envm)
		if err != nil {
			code := fail(s, err)
			if k.ref != "" && !stores.IsReference(k.ref) && !varNameRe.MatchString(k.ref) {
				s.logger().Error("key on the command line refused", "code", rekey.CodeKeyOnArgv, "flag", "--"+k.flag)
			}
			return code
		}
		extra = append(extra, kv...)
		srcs[k.as] = src
	}
	if updateSettings {
		if err := fromSettingsFile(from, envm, s.Dir); err != nil {
			return fail(s, err)
		}
	}
	log := s.logger()
	ctx, sigs, done := begin(s)
	defer done()
	env, code := resolveForDB(ctx, s, environ, extra, log)
	if code != 0 {
		return code
	}
	// Both keys as n8n reads N8N_ENCRYPTION_KEY: trimmed and unquoted (a
	// new key that needs it is refused below).
	oldKey, newKey := n8nenv.Normalize(env[rekeyFromVar]), env[rekeyToVar]
	if from == n8n.EnvKey {
		// n8n's own key, N8N_ENCRYPTION_KEY_FILE read as n8n reads it.
		oldKey = n8n.KeyOf(env)
	}
	// A key that resolved to nothing is the command line's or the
	// environment's mistake: a usage error naming the flag and where the
	// key was read, never a guard refusal.
	for _, k := range []struct{ flag, as, v string }{{"from", rekeyFromVar, oldKey}, {"to", rekeyToVar, newKey}} {
		if k.v == "" {
			return fail(s, usagef("--from and --to must resolve to non-empty keys", "--%s: the key is empty (%s)", k.flag, srcs[k.as]))
		}
	}
	// A new key the guard would refuse at start (white space, quotes, a
	// path) would leave a database that no node can start with.
	refused := false
	for _, f := range n8n.KeyShape("the new key (--to)", newKey) {
		attrs := []any{"code", f.Code}
		if f.Hint != "" {
			attrs = append(attrs, "hint", f.Hint)
		}
		if f.Severity == n8n.Error {
			refused = true
			log.Error(f.Message, attrs...)
		} else {
			log.Warn(f.Message, attrs...)
		}
	}
	if refused {
		log.Error("rekey: nothing was written", "code", rekey.CodeRekeyRefused,
			"error", "the new key has a shape the n8n guard refuses at start: n8n would not start with it", "exit", exitOf(0, false, rekey.CodeRekeyRefused))
		return exitOf(0, false, rekey.CodeRekeyRefused)
	}
	out := rekeyReport{DryRun: !apply, FromFingerprint: n8n.Fingerprint(oldKey), ToFingerprint: n8n.Fingerprint(newKey)}
	// n8n's settings file keeps the key n8n last ran with: decided now,
	// before the database is touched, rewritten (when asked) only after
	// the commit.
	sf, code := settingsBeforeRekey(env, oldKey, newKey, updateSettings, apply, log)
	if code != 0 {
		return code
	}
	defer sf.Plan.Close()
	res, err := runRekey(ctx, env, assumeStopped, rekey.Options{From: oldKey, To: newKey, Apply: apply, RewrapOnly: rewrapOnly,
		SkipUndecryptable: skip, Signing: signing, Logger: log})
	out.Result = res
	code = 0
	if err != nil {
		out.Code, out.Error, code = rekey.CodeOf(err).Name(), err.Error(), dbExit(sigs, err)
		attrs := []any{"code", rekey.CodeOf(err), "error", err.Error(), "exit", code}
		if errors.Is(err, store.ErrHeld) {
			attrs = append(attrs, "hint", "stop every n8n node (main, workers, webhook processors) first, then run rekey again")
		}
		log.Error("rekey: nothing was written", attrs...)
	} else {
		log.Info("rekey", "code", rekey.CodeRekeyDone, "applied", res.Applied, "changes", res.Changes, "n8n_key_fingerprint", out.ToFingerprint)
	}
	out.OK = err == nil
	if err == nil {
		out.SettingsFile, code = settingsAfterRekey(sf, updateSettings, res.Applied, log)
		out.OK = code == 0
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return code
	}
	printRekey(out, res, err, code)
	return code
}

// settingsBeforeRekey looks at n8n's settings file before the rekey. With
// --update-settings-file and --apply, a file holding the old key that may
// not be rewritten (a link, another owner, not n8n's JSON) refuses the
// run before anything is written (78): the operator asked for both.
func settingsBeforeRekey(env map[string]string, oldKey, newKey string, update, apply bool, log *slog.Logger) (n8n.SettingsAfterRekey, int) {
	path, err := n8n.SettingsPath(env)
	if err != nil {
		return n8n.SettingsAfterRekey{Holds: n8n.SettingsInvalid, Refused: err}, 0
	}
	sf := n8n.InspectForRekey(path, oldKey, newKey, update)
	if update && apply && sf.Refused != nil && (sf.Holds == n8n.SettingsOldKey || sf.Holds == n8n.SettingsInvalid) {
		log.Error("rekey: nothing was written: --update-settings-file cannot rewrite n8n's settings file", "code", n8n.CodeSettingsSyncFailed,
			"path", path, "error", sf.Refused.Error(), "exit", exitOf(0, false, n8n.CodeSettingsSyncFailed),
			"hint", "fix the file (or remove it: n8n writes it again from the key it starts with), or run without --update-settings-file and update it yourself after the rekey")
		return sf, exitOf(0, false, n8n.CodeSettingsSyncFailed)
	}
	return sf, 0
}

// settingsAfterRekey rewrites n8n's settings file after a committed rekey
// when it was planned, and reports it. A rewrite that fails now (the file
// changed since it was read) leaves the file as it was and exits
// exitSettingsNotRewritten: the database is under the new key all the
// same.
func settingsAfterRekey(sf n8n.SettingsAfterRekey, update, applied bool, log *slog.Logger) (*settingsFileReport, int) {
	if sf.Path == "" {
		return nil, 0
	}
	rep := &settingsFileReport{Path: sf.Path, Holds: sf.Holds}
	const mismatch = "n8n (and the guard) refuse to start with the new key while it holds the old one (\"Mismatching encryption keys\")"
	switch {
	case sf.Holds == n8n.SettingsNoFile:
		rep.Action = "not found here: on every node whose settings file (<N8N_USER_FOLDER or HOME>/.n8n/config) holds the old key, " + mismatch +
			": update it (rekey --update-settings-file where it is mounted, or N8N_SECRETS_N8N_SETTINGS=sync at the next start) or remove it"
	case sf.Holds == n8n.SettingsNewKey || sf.Holds == n8n.SettingsNoKey:
		rep.Action = "nothing to do"
	case sf.Holds == n8n.SettingsOtherKey:
		rep.Action = "left as it is: it holds neither the old nor the new key, so n8n refuses to start with either"
	case sf.Holds == n8n.SettingsInvalid:
		rep.Action = "left as it is: it cannot be read as n8n's settings file"
	case sf.Plan != nil && applied:
		if err := sf.Plan.Apply(); err != nil {
			rep.Action = "not rewritten: " + err.Error() + "; the database IS under the new key: update or remove the file before n8n starts"
			log.Error("rekey committed, but n8n's settings file was not rewritten", "code", n8n.CodeSettingsSyncFailed, "path", sf.Path,
				"error", err.Error(), "exit", exitSettingsNotRewritten,
				"hint", "the database is under the new key: remove the file (n8n writes it again) or set N8N_SECRETS_N8N_SETTINGS=sync for the next start")
			return rep, exitSettingsNotRewritten
		}
		rep.Action = "rewritten with the new key, after the commit"
		log.Info("n8n's settings file rewritten with the new key", "code", n8n.CodeSettingsSynced, "path", sf.Path,
			"old_fingerprint", sf.Plan.OldFingerprint, "n8n_key_fingerprint", sf.Plan.NewFingerprint)
	case sf.Plan != nil:
		rep.Action = "holds the old key: --apply rewrites it with the new key after the commit (--update-settings-file)"
	case update && sf.Refused != nil:
		rep.Action = "holds the old key, and --update-settings-file cannot rewrite it: " + sf.Refused.Error()
	default:
		rep.Action = "holds the old key: " + mismatch + "; add --update-settings-file to rewrite it after the commit, or remove it (n8n writes it again), or set N8N_SECRETS_N8N_SETTINGS=sync for the next start"
		if applied {
			log.Warn("n8n's settings file holds the old key", "code", n8n.CodeSettingsKeyMismatch, "path", sf.Path,
				"hint", "rekey --update-settings-file rewrites it after the commit; or remove it; or N8N_SECRETS_N8N_SETTINGS=sync at the next start")
		}
	}
	return rep, 0
}

func runRekey(ctx context.Context, env map[string]string, assumeStopped bool, opts rekey.Options) (*rekey.Result, error) {
	cfg, err := store.FromEnv(env)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg, store.Options{ReadOnly: !opts.Apply, AssumeStopped: assumeStopped})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return rekey.Run(ctx, db, opts)
}

func printRekey(out rekeyReport, res *rekey.Result, err error, code int) {
	if out.DryRun {
		fmt.Println("rekey: dry run: nothing is written (add --apply to write)")
	}
	if res != nil {
		layout := ""
		if res.Layout != "" {
			layout = " (n8n " + res.Layout + ")"
		}
		fmt.Printf("database: %s%s, mode %s\n", res.Database, layout, res.Mode)
		fmt.Printf("old key fingerprint %s, new key fingerprint %s\n\n", out.FromFingerprint, out.ToFingerprint)
		if len(res.Counts) > 0 {
			printCounts(res.Counts, true)
		}
		if len(res.Keys) > 0 {
			fmt.Println("\ndeployment_key:")
			for _, k := range res.Keys {
				id := k.ID
				if id == "" {
					id = "(new, " + k.IDPrefix + "…)"
				}
				fmt.Printf("  %s %s: %s\n", id, k.Type, k.Action)
			}
		}
		for _, u := range res.Unverified {
			fmt.Printf("\nnot rekeyed: %s: %d execution(s), %d cbc and %d prefixed value(s): %s\n", u.Location, u.Rows, u.CBC, u.Prefixed, u.Why)
		}
		if len(res.Skipped) > 0 {
			fmt.Printf("\nleft as they are (--skip-undecryptable): %d value(s)\n", len(res.Skipped))
		}
		if len(res.Notes) > 0 {
			fmt.Println()
			for _, n := range res.Notes {
				fmt.Println("note: " + n)
			}
		}
		if len(res.Holders) > 0 {
			fmt.Printf("\nwarning: the database is in use (%v): --apply will refuse; stop every n8n node first\n", res.Holders)
		}
	}
	if sf := out.SettingsFile; sf != nil {
		fmt.Printf("\nn8n's settings file %s: %s\n", sf.Path, sf.Action)
	}
	switch {
	case err != nil:
		fmt.Printf("\n%s: %v (exit %d)\n", out.Code, err, code)
	case code == exitSettingsNotRewritten:
		fmt.Printf("\ndone: %d value(s) and key(s) re-encrypted, committed; n8n's settings file NOT rewritten (exit %d)\n", res.Changes, code)
	case res.Applied && res.Changes == 0:
		fmt.Println("\nnothing to do: everything is already under the new key")
	case res.Applied:
		fmt.Printf("\ndone: %d value(s) and key(s) re-encrypted, committed\n", res.Changes)
	default:
		fmt.Printf("\n%d value(s) and key(s) would be re-encrypted; every one was checked against the new key\n", res.Changes)
	}
	if err == nil {
		fmt.Printf("new key fingerprint: %s (pin it: N8N_SECRETS_EXPECT_KEY_FINGERPRINT=%s)\n", out.ToFingerprint, out.ToFingerprint)
	}
}

// fromSettingsFile refuses --update-settings-file when --from reads the old
// key from n8n's settings file itself (a file: reference to it, given or
// held by the variable named, or NAME_FILE naming it): that file is then
// the only copy rekey knows of the key every backup of the database is
// under, and rewriting it would lose it for good.
func fromSettingsFile(from string, environ map[string]string, dir string) error {
	ref, path := from, ""
	if !stores.IsReference(ref) {
		if v, ok := environ[from]; ok {
			ref = v
		} else if v, ok := environ[from+"_FILE"]; ok {
			ref, path = "", v
		}
	}
	if stores.IsReference(ref) {
		r, err := stores.Parse(ref)
		loc, ok := r.Loc.(file.Ref)
		if err != nil || !ok {
			return nil
		}
		path = loc.Path()
		if !loc.IsAbs() {
			path = filepath.Join(dir, filepath.FromSlash(path))
		}
	}
	cfg, err := n8n.SettingsPath(environ)
	if path == "" || err != nil {
		return nil
	}
	a, errA := os.Stat(path)
	b, errB := os.Stat(cfg)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		return nil
	}
	return usagef("keep the old key first: put it in the secret store (it decrypts every backup made before the rekey) and give --from that reference; "+
		"or run without --update-settings-file and replace the file yourself once the old key is kept",
		"--from reads the old key from n8n's settings file %s, which --update-settings-file would overwrite: the old key would be lost", cfg)
}
