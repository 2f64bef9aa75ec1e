package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// runGuard runs the n8n guard over the child's environment, when it is
// active for this command, under ctx (it reads n8n's settings file), and
// applies the variables it sets; then, unless the guard already refused,
// the check of the key against n8n's database (N8N_SECRETS_VERIFY_KEY),
// under ctx too. It writes nothing: a rewrite of the settings file it
// decides on is applied last by applySync, and only if nothing refused and
// the check proved the key. It does nothing for argv nil (the fingerprint
// command).
func (o *outcome) runGuard(ctx context.Context, s *settings, argv []string) {
	if argv == nil {
		return
	}
	envm := envMap(o.env)
	active, err := n8n.Active(s.N8N, argv, envm)
	if err != nil {
		o.guardErr = err
		return
	}
	if !active {
		return
	}
	opts := n8n.Options{Mode: s.N8N, SettingsMode: s.N8NSettings, ExpectFingerprint: s.ExpectKeyFingerprint}
	// The environment as n8n reads it: the NAME_FILE variables n8n reads
	// itself (left for it: outside the secrets mounts) read here too, as n8n
	// reads them. The child's environment is not changed.
	if _, set := envm[n8n.EnvKey]; !set && envm[n8n.EnvKey+"_FILE"] != "" {
		opts.KeyFile = envm[n8n.EnvKey+"_FILE"]
	}
	view, err := n8nenv.ReadFiles(ctx, envm, []string{n8n.EnvKey})
	if err != nil {
		opts.KeyFileErr = strings.TrimPrefix(err.Error(), n8n.EnvKey+"_FILE: ")
		view = envm
	}
	dbView, dbErr := n8nenv.ReadFiles(ctx, view, n8nenv.Names)
	rep, err := inject.Call(ctx, func() (n8n.Report, error) { return n8n.Check(opts, argv, view, o.injectedNames()) })
	if err != nil && ctx.Err() != nil {
		o.errs = append(o.errs, fmt.Errorf("n8n guard: reading n8n's settings file did not finish: %w", err))
		return
	}
	if err != nil {
		o.guardErr = err
		return
	}
	if !rep.Failed() && rep.KeySource == n8n.KeyFromEnv {
		kc := verifyBeforeStart(ctx, s.VerifyKey, dbView, dbErr, rep.Role)
		rep.Findings = append(rep.Findings, kc.notes...)
		if kc.finding != nil {
			rep.Findings = append(rep.Findings, *kc.finding)
		}
		if !kc.proved {
			// N8N_SECRETS_N8N_SETTINGS=sync replaces the settings file's
			// key only with a key that decrypted the database.
			rep.RefuseSync(kc.unproved)
		}
	}
	// Whatever refused the start, a planned rewrite is withdrawn.
	if rep.Failed() && rep.Sync != nil {
		rep.RefuseSync("the start is refused for the errors above")
	}
	o.guard = &rep
	for k, v := range rep.SetEnv {
		o.env = inject.SetVar(o.env, k, v)
	}
}

// autoVerifyTimeout bounds the check before start under
// N8N_SECRETS_VERIFY_KEY=auto; under on the start's deadline applies.
const autoVerifyTimeout = 5 * time.Second

// keyCheck is the outcome of the check before start.
type keyCheck struct {
	finding *n8n.Finding // what to report; nil for nothing
	// proved: N8N_ENCRYPTION_KEY decrypted at least one value of n8n's
	// database. Only then may N8N_SECRETS_N8N_SETTINGS=sync replace the
	// settings file's key.
	proved bool
	// unproved says why the key was not proved, for the sync's refusal.
	unproved string
	// notes are warnings about n8n's variables: values n8n ignores.
	notes []n8n.Finding
}

// verifyBeforeStart checks N8N_ENCRYPTION_KEY against a sample of n8n's
// database (rekey.Sample: one connection, one query) and returns the
// finding: an error (exit 78) when the key does not decrypt it; when the
// database cannot be reached, a warning under auto (n8n reports it itself)
// and an error under on (exit 69). A database without n8n's tables is a
// warning (a first start, or settings that name another place than n8n's),
// an error under on for a worker or webhook processor, which never create
// them. Under auto, a SQLite database that does not exist yet (a first
// start) is not checked, and the check gives up after autoVerifyTimeout.
// Nothing is written.
func verifyBeforeStart(ctx context.Context, mode string, env map[string]string, envErr error, role n8n.Role) keyCheck {
	if mode == "off" {
		return keyCheck{unproved: "N8N_SECRETS_VERIFY_KEY=off"}
	}
	start := time.Now()
	sev := n8n.Warning
	if mode == "on" {
		sev = n8n.Error
	} else {
		// auto: a database that does not answer delays the start by at
		// most this much (n8n then reports it itself).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, autoVerifyTimeout)
		defer cancel()
	}
	cfg, err := store.FromEnv(env)
	if envErr != nil {
		err = fmt.Errorf("%w: %v", store.ErrConfig, envErr)
	}
	if err != nil {
		return keyCheck{finding: &n8n.Finding{Code: rekey.CodeDBSettings, Severity: sev, Message: "the key was not checked against n8n's database: " + err.Error()},
			unproved: "the key was not checked: " + err.Error()}
	}
	var notes []n8n.Finding
	if len(cfg.Ignored) > 0 {
		notes = append(notes, n8n.Finding{Code: rekey.CodeDBSettings, Severity: n8n.Warning,
			Message: "n8n ignores these values, and so does the check: " + strings.Join(cfg.Ignored, "; ")})
	}
	kc := checkKeyAgainstDB(ctx, mode, sev, cfg, env, role, start)
	kc.notes = append(notes, kc.notes...)
	return kc
}

// checkKeyAgainstDB is the check itself, once cfg is read.
func checkKeyAgainstDB(ctx context.Context, mode string, sev n8n.Severity, cfg store.Config, env map[string]string, role n8n.Role, start time.Time) keyCheck {
	if !cfg.Exists() {
		none := "there is no database yet at " + cfg.Describe() + " to check the key against"
		if mode == "on" {
			return keyCheck{finding: &n8n.Finding{Code: rekey.CodeKeyDBVerified, Severity: n8n.Info,
				Message: "no database yet at " + cfg.Describe() + ": nothing encrypted to check the key against"}, unproved: none}
		}
		return keyCheck{unproved: none}
	}
	db, err := store.Open(ctx, cfg, store.Options{ReadOnly: true})
	if err == nil {
		var rep *rekey.SampleReport
		rep, err = rekey.Sample(ctx, db, n8n.KeyOf(env))
		db.Close()
		ms := fmt.Sprintf("%.1f ms", float64(time.Since(start).Microseconds())/1000)
		switch {
		case err == nil && rep.Layout == rekey.LayoutNo:
			noSev := n8n.Warning
			if mode == "on" && (role == n8n.RoleWorker || role == n8n.RoleWebhook) {
				noSev = n8n.Error
			}
			return keyCheck{finding: &n8n.Finding{Code: rekey.CodeDBNoTables, Severity: noSev,
				Message: "n8n's tables are not in " + cfg.Describe() + ": the key was not checked (" + ms + ")",
				Hint:    "normal before n8n's first start on an empty database; otherwise DB_TABLE_PREFIX, DB_POSTGRESDB_SCHEMA, DB_POSTGRESDB_DATABASE or DB_SQLITE_DATABASE name another place than the one n8n's data is in"},
				unproved: "n8n's tables are not in " + cfg.Describe()}
		case err == nil && len(rep.Checked) == 0:
			return keyCheck{finding: &n8n.Finding{Code: rekey.CodeKeyDBVerified, Severity: n8n.Info, Message: "n8n's database holds nothing encrypted yet (" + ms + ")"},
				unproved: "n8n's database holds nothing encrypted to check the key against"}
		case err == nil:
			kc := keyCheck{finding: &n8n.Finding{Code: rekey.CodeKeyDBVerified, Severity: n8n.Info,
				Message: fmt.Sprintf("the key decrypts n8n's database: %s (%s)", strings.Join(rep.Checked, ", "), ms)}, proved: true}
			if len(rep.Unreadable) > 0 {
				kc.notes = []n8n.Finding{{Code: rekey.CodeDataKeyUnreadable, Severity: n8n.Warning,
					Message: "N8N_ENCRYPTION_KEY does not unwrap " + strings.Join(rep.Unreadable, ", ") + " in n8n's deployment_key table, while it unwraps the others: n8n 2.40 starts and warns the same (\"DEK … is in an unrecognized format\"); values under those data keys cannot be read",
					Hint:    "run n8n-secrets verify-key to see which values, if any, use them"}}
			}
			return kc
		case errors.Is(err, rekey.ErrMismatch):
			return keyCheck{finding: &n8n.Finding{Code: rekey.CodeKeyDBMismatch, Severity: n8n.Error,
				Message: "N8N_ENCRYPTION_KEY does not decrypt n8n's database (" + cfg.Describe() + "): " + strings.Join(rep.Failed, ", ") + " do not decrypt",
				Hint:    "this node has another key than the one the database was written with: compare n8n_key_fingerprint across nodes, and run n8n-secrets verify-key"},
				unproved: "N8N_ENCRYPTION_KEY does not decrypt n8n's database"}
		}
	}
	return keyCheck{finding: &n8n.Finding{Code: rekey.CodeOf(err), Severity: sev,
		Message: "the key was not checked against n8n's database: " + err.Error(),
		Hint:    "N8N_SECRETS_VERIFY_KEY=auto starts anyway when the database cannot be reached; on refuses"},
		unproved: "the key was not checked against n8n's database: " + err.Error()}
}

// guardExit logs the guard's findings and returns 78 when it refuses the
// start (64 when it could not run).
func (o *outcome) guardExit(log *slog.Logger, command string) int {
	if o.guardErr != nil {
		log.Error("n8n guard", "code", inject.CodeUsage, "error", o.guardErr.Error())
		return o.notStarting(log, command, []logcode.Code{inject.CodeUsage}, exitOf(0, false, inject.CodeUsage))
	}
	if o.guard == nil {
		return 0
	}
	var failed []logcode.Code
	for _, f := range o.guard.Findings {
		attrs := []any{"code", f.Code, "n8n_role", string(o.guard.Role)}
		if f.Hint != "" {
			attrs = append(attrs, "hint", f.Hint)
		}
		switch f.Severity {
		case n8n.Error:
			failed = append(failed, f.Code)
			log.Error(f.Message, attrs...)
		case n8n.Warning:
			log.Warn(f.Message, attrs...)
		default:
			log.Info(f.Message, attrs...)
		}
	}
	if len(failed) > 0 {
		o.guard.Sync.Close()
		return o.notStarting(log, command, failed, exitOf(0, true, failed...))
	}
	return 0
}

// applySync carries out the rewrite of n8n's settings file that the guard
// decided on (N8N_SECRETS_N8N_SETTINGS=sync). It is the last step before
// exec, once nothing else can refuse the start; a failure refuses it (78)
// and leaves the file as it was. It runs to its end, not abandoned at the
// deadline or on a signal: an abandoned rewrite could leave its temporary
// file, which holds the key, behind a process that exits. The file was just
// read from the same folder handle, so the mount answers; a signal that
// arrives meanwhile stops the start right after. So that a signal cannot
// end the process halfway either (by its default action, when no
// reference made the start watch signals), the watch is installed first.
func (o *outcome) applySync(sigs *signals, log *slog.Logger, command string) int {
	if o.guard == nil || o.guard.Sync == nil {
		return 0
	}
	plan := o.guard.Sync
	defer plan.Close()
	sigs.watch()
	if sig := sigs.received(); sig != 0 {
		return o.stopped(log, command, sig)
	}
	if syncTestHook != nil {
		syncTestHook()
	}
	if err := plan.Apply(); err != nil {
		log.Error("not starting: cannot rewrite n8n's settings file", "code", n8n.CodeSettingsSyncFailed, "path", plan.Path,
			"error", err.Error(), "exit", exitOf(0, false, n8n.CodeSettingsSyncFailed))
		return exitOf(0, false, n8n.CodeSettingsSyncFailed)
	}
	log.Info("n8n's settings file rewritten with N8N_ENCRYPTION_KEY", "code", n8n.CodeSettingsSynced, "path", plan.Path,
		"old_fingerprint", dash(plan.OldFingerprint), "n8n_key_fingerprint", plan.NewFingerprint)
	return 0
}

// syncTestHook, when set (by tests only), runs just before the settings
// file is rewritten.
var syncTestHook func()
