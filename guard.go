package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// runGuard runs the n8n guard over the child's environment, when it is
// active for this command, under ctx (it reads n8n's settings file), and
// applies the variables it sets. It writes nothing: a rewrite of the
// settings file it decides on is applied last by applySync. It does
// nothing for argv nil (the fingerprint command).
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
	rep, err := inject.Call(ctx, func() (n8n.Report, error) { return n8n.Check(opts, argv, envm, o.injectedNames()) })
	if err != nil && ctx.Err() != nil {
		o.errs = append(o.errs, fmt.Errorf("n8n guard: reading n8n's settings file did not finish: %w", err))
		return
	}
	if err != nil {
		o.guardErr = err
		return
	}
	o.guard = &rep
	for k, v := range rep.SetEnv {
		o.env = inject.SetVar(o.env, k, v)
	}
}

// guardExit logs the guard's findings and returns 78 when it refuses the
// start (64 when it could not run).
func (o *outcome) guardExit(log *slog.Logger, command string) int {
	if o.guardErr != nil {
		log.Error("n8n guard", "code", string(inject.CodeUsage), "error", o.guardErr.Error())
		return o.notStarting(log, command, []string{string(inject.CodeUsage)}, inject.ExitUsage)
	}
	if o.guard == nil {
		return 0
	}
	var failed []string
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
		return o.notStarting(log, command, failed, inject.ExitConfig)
	}
	return 0
}

// applySync carries out the rewrite of n8n's settings file that the guard
// decided on (N8N_SECRETS_N8N_SETTINGS=sync), under ctx. It is the last
// step before exec, once nothing else can refuse the start; a failure
// refuses it (78) and leaves the file as it was.
func (o *outcome) applySync(ctx context.Context, log *slog.Logger) int {
	if o.guard == nil || o.guard.Sync == nil {
		return 0
	}
	plan := o.guard.Sync
	defer plan.Close()
	_, err := inject.Call(ctx, func() (struct{}, error) { return struct{}{}, plan.Apply() })
	if err != nil {
		log.Error("not starting: cannot rewrite n8n's settings file", "code", n8n.CodeSettingsSyncFailed, "path", plan.Path,
			"error", err.Error(), "exit", inject.ExitConfig)
		return inject.ExitConfig
	}
	log.Info("n8n's settings file rewritten with N8N_ENCRYPTION_KEY", "code", n8n.CodeSettingsSynced, "path", plan.Path,
		"old_fingerprint", dash(plan.OldFingerprint), "n8n_key_fingerprint", plan.NewFingerprint)
	return 0
}
