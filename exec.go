package main

import (
	"errors"
	"syscall"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/start"
)

// execMode runs the start sequence (package start) and execs argv, or,
// with N8N_SECRETS_MODE=supervise, supervises it.
func execMode(s *settings.Settings, env environ.Env, argv []string) error {
	if len(argv) == 0 {
		return settings.Usagef("n8n-secrets [flags] -- CMD [ARGS…]", "no command after --")
	}
	if s.Mode == settings.ModeSupervise {
		return superviseMode(s, env, argv)
	}
	log := s.Logger()
	st, err := start.Launch(s.Timeout, start.Options{Settings: s, Env: env, Stores: stores, Argv: argv, Log: log, FailFast: true})
	if err != nil {
		return err
	}
	log.Info("exec", st.Summary(argv[0])...)
	err = syscall.Exec(st.Path, argv, st.Env)
	failed := start.CodeCommandNotExec
	if errors.Is(err, syscall.ENOENT) {
		failed = start.CodeCommandNotFound
	}
	f := &failure.Failure{Codes: []logcode.Code{failed}, Logged: true}
	log.Error("exec failed", "code", failed, "command", argv[0], "error", err.Error(), "exit", f.Exit())
	return f
}
