package main

// Supervise mode (N8N_SECRETS_MODE=supervise): the start sequence as in
// exec mode (package start), then the command runs as a child and this
// process stays its parent. Package supervise runs the child (signals,
// reaping, restarts); package watch keeps the secrets current (versions,
// leases, the login token); start.Source decides, through the n8n guard,
// whether new values may reach the command. This file wires them.

import (
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
	"github.com/n8n-secrets/n8n-secrets/start"
	"github.com/n8n-secrets/n8n-secrets/supervise"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// gracefulShutdownVar is n8n's own setting: how long n8n waits for running
// executions when it is stopped, in seconds. Unless N8N_SECRETS_KILL_TIMEOUT
// is set, supervise mode waits as long after the kill signal before it
// sends KILL (n8n's default, 30 s, when it is not set either).
const gracefulShutdownVar = "N8N_GRACEFUL_SHUTDOWN_TIMEOUT"

// defaultGrace is n8n's default for N8N_GRACEFUL_SHUTDOWN_TIMEOUT.
const defaultGrace = 30 * time.Second

// graceOf reads n8n's N8N_GRACEFUL_SHUTDOWN_TIMEOUT (seconds) as n8n reads
// a number (n8nenv.Number: JavaScript's Number, so " 30", "2.5" and
// "0x1e" are what n8n takes too). A value n8n would ignore (NaN: "30s")
// or a negative one is refused rather than silently replaced by the
// default, as n8n would.
func graceOf(env environ.Env) (time.Duration, error) {
	n, valid := n8nenv.Number(env.Map(), gracefulShutdownVar, defaultGrace.Seconds())
	if !valid || n < 0 || n > maxGrace.Seconds() {
		return 0, settings.Usagef("a number of seconds, like 30 (n8n would ignore this value and wait 30 s)",
			"%s: not a number of seconds n8n takes", gracefulShutdownVar)
	}
	return time.Duration(n * float64(time.Second)), nil
}

// maxGrace bounds N8N_GRACEFUL_SHUTDOWN_TIMEOUT (a week), so that the
// duration cannot overflow.
const maxGrace = 7 * 24 * time.Hour

// superviseMode runs the start sequence as exec mode does, then supervises
// the command until it exits for good; its exit code is the command's.
func superviseMode(s *settings.Settings, env environ.Env, argv []string) error {
	log := s.Logger()
	policy, _ := supervise.ParsePolicy(s.OnChange)        // validated
	stopSig, _ := supervise.ParseStopSignal(s.KillSignal) // validated
	grace, err := graceOf(env)
	if err != nil {
		return err
	}
	if s.Source("kill-timeout") != "" {
		grace = s.KillTimeout // ours wins over n8n's
	}
	msrv, err := listenMetrics(s, log)
	if err != nil {
		return err
	}
	defer msrv.Close()
	opts := start.Options{Settings: s, Env: env, Stores: stores, Argv: argv, Log: log, FailFast: true, KeepProviders: true}
	st, err := start.Launch(s.Timeout, opts)
	if err != nil {
		return err
	}
	k := watch.New(watch.Options{Providers: st.Providers, Requests: st.Reqs, Concurrency: s.Concurrency,
		Timeout: s.Timeout, Lead: grace + s.Splay + s.Timeout, Logger: log, Hint: hintOf}, st.Results)
	src := start.NewSource(opts, st, k)
	log.Info("supervise", withCode(st.Summary(argv[0]), codeSuperviseStart)...)
	if msrv != nil {
		msrv.Serve(func() metrics.State { return metricsState(src) })
	}
	var mask *supervise.Masker
	if s.Mask {
		mask = supervise.NewMasker(st.InjectedValues())
		src.Mask = mask
	}
	return failure.Status(supervise.Run(supervise.Config{
		Path: st.Path, Argv: argv, Env: st.Env,
		Source: src, Refresh: s.Refresh, Splay: s.Splay, Grace: grace, Policy: policy,
		StopSignal: stopSig, Mask: mask,
		Logger: log,
	}))
}

// hintOf returns what to do about err, for a reference of scheme.
func hintOf(err error, scheme string) string { return start.HintOf(stores, err, scheme) }

// withCode returns attrs with its "code" set to code, replacing one that
// is there (the exec summary's).
func withCode(attrs []any, code logcode.Code) []any {
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i] == "code" {
			attrs[i+1] = code
			return attrs
		}
	}
	return append(attrs, "code", code)
}
