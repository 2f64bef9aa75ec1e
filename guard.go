package main

import (
	"log/slog"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// runGuard runs the n8n guard over the child's environment, when it is
// active for this command, and applies the variables it sets. It does
// nothing for argv nil (the fingerprint command).
func (o *outcome) runGuard(s *settings, argv []string) {
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
	rep, err := n8n.Check(n8n.Options{Mode: s.N8N, SettingsMode: s.N8NSettings, ExpectFingerprint: s.ExpectKeyFingerprint},
		argv, envm, o.injectedNames())
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
func (o *outcome) guardExit(log *slog.Logger) int {
	if o.guardErr != nil {
		log.Error("n8n guard", "code", string(inject.CodeUsage), "error", o.guardErr.Error())
		return inject.ExitUsage
	}
	if o.guard == nil {
		return 0
	}
	for _, f := range o.guard.Findings {
		attrs := []any{"code", f.Code, "role", string(o.guard.Role)}
		if f.Hint != "" {
			attrs = append(attrs, "hint", f.Hint)
		}
		switch f.Severity {
		case n8n.Error:
			log.Error(f.Message, attrs...)
		case n8n.Warning:
			log.Warn(f.Message, attrs...)
		default:
			log.Info(f.Message, attrs...)
		}
	}
	if o.guard.Failed() {
		log.Error("not starting: the n8n guard refused", "code", "N8N_GUARD", "exit", inject.ExitConfig,
			"n8n_key_fingerprint", o.guard.Fingerprint)
		return inject.ExitConfig
	}
	return 0
}
