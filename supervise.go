package main

// Supervise mode (N8N_SECRETS_MODE=supervise): resolve and guard as exec
// mode does, then run the command as a child and stay its parent. Package
// supervise runs the child (signals, reaping, restarts); package watch
// keeps the secrets current (versions, leases, the login token); this file
// wires the two to the providers and the n8n guard, which decides whether
// new values may reach the command.

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/supervise"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// Values of settings.Mode.
const (
	modeExec      = "exec"
	modeSupervise = "supervise"
)

// Log codes of this file's events, stable for alerts to match.
const (
	// codeSuperviseStart: the secrets resolved and the guard passed; the command starts as a child.
	codeSuperviseStart = "SUPERVISE_START"
	// codeUpdateRefused: new values failed to resolve or failed the n8n guard; the command keeps running with the old ones.
	codeUpdateRefused = "UPDATE_REFUSED"
	// codeKeyChanged: N8N_ENCRYPTION_KEY has a new value; the command keeps the old one (change it with every node stopped).
	codeKeyChanged = "N8N_KEY_CHANGED"
	// codeValuesUnchanged: a store has new versions whose values are those the command has; nothing to do.
	codeValuesUnchanged = "VALUES_UNCHANGED"
)

// gracefulShutdownVar is n8n's own setting: how long n8n waits for running
// executions when it is stopped, in seconds. Unless N8N_SECRETS_KILL_TIMEOUT
// is set, supervise mode waits as long after the kill signal before it
// sends KILL (n8n's default, 30 s, when it is not set either).
const gracefulShutdownVar = "N8N_GRACEFUL_SHUTDOWN_TIMEOUT"

// defaultGrace is n8n's default for N8N_GRACEFUL_SHUTDOWN_TIMEOUT.
const defaultGrace = 30 * time.Second

// graceOf reads n8n's N8N_GRACEFUL_SHUTDOWN_TIMEOUT (whole seconds).
func graceOf(env map[string]string) (time.Duration, error) {
	v, ok := env[gracefulShutdownVar]
	if !ok || v == "" {
		return defaultGrace, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, usagef("n8n reads it as whole seconds, like 30", "%s: not a number of seconds", gracefulShutdownVar)
	}
	return time.Duration(n) * time.Second, nil
}

// superviseMode resolves and checks as exec mode does, then supervises the
// command until it exits for good, and returns its exit code.
func superviseMode(s *settings, environ, argv []string) int {
	log := s.logger()
	policy, _ := supervise.ParsePolicy(s.OnChange)        // validated
	stopSig, _ := supervise.ParseStopSignal(s.KillSignal) // validated
	grace, err := graceOf(envMap(environ))
	if err != nil {
		return fail(s, err)
	}
	if s.source["kill-timeout"] != "" {
		grace = s.KillTimeout // ours wins over n8n's
	}
	ctx, sigs, done := begin(s)
	path, code := lookPath(ctx, argv[0])
	if code != 0 {
		done()
		return commandFailed(log, argv[0], code)
	}
	s.keepProviders = true
	o := prepare(ctx, s, environ, argv, log, true)
	refuse := func(code int) int {
		closeProviders(ctx, o.providers, log) // prepare left them open (closing twice does nothing)
		done()
		return code
	}
	if code := o.report(log, argv[0]); code != 0 {
		if sig := sigs.received(); sig != 0 {
			return refuse(128 + int(sig))
		}
		return refuse(code)
	}
	if sig := sigs.received(); sig != 0 {
		return refuse(o.stopped(log, argv[0], sig))
	}
	if code := o.applySync(sigs, log, argv[0]); code != 0 {
		return refuse(code)
	}
	if sig := sigs.stop(); sig != 0 {
		return refuse(o.stopped(log, argv[0], sig))
	}
	done()

	k := watch.New(watch.Options{Providers: o.providers, Requests: o.reqs, Concurrency: s.Concurrency,
		Timeout: s.Timeout, Lead: grace + s.Splay + s.Timeout, Logger: log}, o.results)
	src := &secretSource{s: s, path: path, argv: argv, environ: environ, log: log, keeper: k, env: o.env,
		remove: removeFunc(s), sets: map[*supervise.Update]*watch.Set{}}
	log.Info("supervise", withCode(o.summary(argv[0]), codeSuperviseStart)...)
	var mask *supervise.Masker
	if s.Mask {
		mask = supervise.NewMasker(o.injectedValues())
		src.mask = mask
	}
	return supervise.Run(supervise.Config{
		Path: path, Argv: argv, Env: o.env,
		Source: src, Refresh: s.Refresh, Splay: s.Splay, Grace: grace, Policy: policy,
		StopSignal: stopSig, Mask: mask,
		Logger: log,
	})
}

// withCode returns attrs with its "code" set to code, replacing one that
// is there (the exec summary's).
func withCode(attrs []any, code string) []any {
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i] == "code" {
			attrs[i+1] = code
			return attrs
		}
	}
	return append(attrs, "code", code)
}

// removeFunc reports the variables kept from the child: credentials and
// settings, unless passed through (as prepare does).
func removeFunc(s *settings) func(string) bool {
	passthrough := inject.ParseMatcher(s.Passthrough)
	return func(name string) bool { return credentialVars.Match(name) && !passthrough.Match(name) }
}

// secretSource is the supervise.Source over the providers: it turns what
// the Keeper reports into new environments that passed the n8n guard.
// Only supervise's worker goroutine calls it.
type secretSource struct {
	s       *settings
	path    string // the command's file
	argv    []string
	environ []string // the injector's own environment, with the references
	log     *slog.Logger
	keeper  *watch.Keeper
	env     []string // the environment the command runs with
	remove  func(string) bool
	sets    map[*supervise.Update]*watch.Set
	mask    *supervise.Masker // nil unless N8N_SECRETS_MASK
}

var _ supervise.Source = (*secretSource)(nil)

func (src *secretSource) Refresh(ctx context.Context) *supervise.Update {
	c := src.keeper.Changed(ctx)
	if c == nil {
		return nil
	}
	return src.update(ctx, "rotation", nil, c.Detected, time.Time{})
}

func (src *secretSource) Renew(ctx context.Context) *supervise.Update {
	e := src.keeper.Renew(ctx)
	if e == nil {
		return nil
	}
	return src.update(ctx, e.Reason, e.Keys, time.Now(), e.Deadline)
}

func (src *secretSource) Due() time.Time { return src.keeper.Due() }

func (src *secretSource) Settle(ctx context.Context, u *supervise.Update, adopted bool) {
	set := src.sets[u]
	delete(src.sets, u)
	if set == nil {
		return
	}
	if adopted {
		src.env = u.Env
		src.keeper.Adopt(ctx, set)
	} else {
		src.keeper.Drop(ctx, set)
	}
}

func (src *secretSource) Close(ctx context.Context) { src.keeper.Close(ctx) }

// update resolves every secret again (refetch: leased ones to fetch anew)
// and returns the new environment, unless a value fails to resolve, the
// n8n guard refuses it, or N8N_ENCRYPTION_KEY changed: then the command
// keeps running with what it has, and the failure is logged.
func (src *secretSource) update(ctx context.Context, reason string, refetch []inject.Reference, detected, deadline time.Time) *supervise.Update {
	set, errs := src.keeper.Resolve(ctx, refetch)
	if len(errs) > 0 {
		o := &outcome{results: set.Results}
		for _, err := range errs {
			o.logFailure(src.log, err)
		}
		src.refuse(ctx, set, reason, "new values did not resolve", "failed", len(errs))
		return nil
	}
	env := inject.BuildEnv(src.environ, set.Results, src.remove)

	// The guard as at start, except that it never writes: the running
	// command may be using n8n's settings file.
	check := *src.s
	check.N8NSettings = n8n.SettingsCheck
	o := &outcome{results: set.Results, env: env}
	// The guard reads n8n's settings file and may ask n8n's database
	// (N8N_SECRETS_VERIFY_KEY): under the settings' deadline, as at start.
	gctx, cancel := context.WithTimeout(ctx, src.s.Timeout)
	o.runGuard(gctx, &check, src.argv)
	cancel()
	if len(o.errs) > 0 {
		src.refuse(ctx, set, reason, "the n8n guard did not finish", "failed", len(o.errs))
		return nil
	}
	if o.guardErr != nil {
		src.refuse(ctx, set, reason, "the n8n guard could not run", "error", o.guardErr.Error())
		return nil
	}
	if o.guard != nil && o.guard.Failed() {
		for _, f := range o.guard.Findings {
			if f.Severity == n8n.Error {
				src.log.Error(f.Message, "code", f.Code, "role", string(o.guard.Role), "hint", f.Hint)
			}
		}
		src.refuse(ctx, set, reason, "the n8n guard refused the new values", "n8n_key_fingerprint", o.guard.Fingerprint)
		return nil
	}
	env = o.env
	// What execve would refuse must not stop the running command for a
	// start that cannot happen.
	if errs := inject.CheckExecSize(src.path, src.argv, env, inject.ArgSpace()); len(errs) > 0 {
		for _, err := range errs {
			o.logFailure(src.log, err)
		}
		src.refuse(ctx, set, reason, "the new environment is too large to start the command with", "failed", len(errs))
		return nil
	}
	old, now := envMap(src.env), envMap(env)
	if src.s.N8N != n8n.ModeOff && old[n8n.EnvKey] != now[n8n.EnvKey] {
		attrs := []any{"code", codeKeyChanged, "var", n8n.EnvKey,
			"hint", "the key changes only with every node stopped: re-encrypt n8n's data with the new key, then start the nodes again"}
		if k := old[n8n.EnvKey]; k != "" {
			attrs = append(attrs, "n8n_key_fingerprint", n8n.Fingerprint(k))
		}
		if k := now[n8n.EnvKey]; k != "" {
			attrs = append(attrs, "new_n8n_key_fingerprint", n8n.Fingerprint(k))
		}
		src.log.Error("N8N_ENCRYPTION_KEY changed in the store: the command keeps running with the old key", attrs...)
		src.keeper.Drop(ctx, set)
		return nil
	}
	vars := changedVars(old, now)
	src.keeper.Acknowledge(set)
	if len(vars) == 0 {
		src.log.Info("new versions hold the values the command has: nothing to do", "code", codeValuesUnchanged, "reason", reason)
		src.keeper.Drop(ctx, set)
		return nil
	}
	src.mask.Add((&outcome{results: set.Results, envFrom: inject.EnvFromLayout(src.environ, set.Results)}).injectedValues())
	src.keeper.Propose(set)
	u := &supervise.Update{Env: env, Vars: vars, Reason: reason, Deadline: deadline, Detected: detected}
	src.sets[u] = set
	return u
}

// refuse logs that new values will not reach the command, and releases
// what resolving them obtained.
func (src *secretSource) refuse(ctx context.Context, set *watch.Set, reason, msg string, attrs ...any) {
	src.log.Error(msg+": the command keeps running with the values it has",
		append([]any{"code", codeUpdateRefused, "reason", reason}, attrs...)...)
	src.keeper.Drop(ctx, set)
}

// changedVars names the variables whose values differ between two
// environments, or that only one has.
func changedVars(a, b map[string]string) []string {
	var vars []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			vars = append(vars, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			vars = append(vars, k)
		}
	}
	sort.Strings(vars)
	return slices.Compact(vars)
}
