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
	"sync/atomic"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/supervise"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// Values of settings.Mode.
const (
	modeExec      = "exec"
	modeSupervise = "supervise"
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
	msrv, err := listenMetrics(s, log)
	if err != nil {
		return fail(s, err)
	}
	defer msrv.Close()
	ctx, sigs, done := begin(s)
	path, failed, exit := lookPath(ctx, argv[0])
	if !failed.IsZero() {
		done()
		return commandFailed(log, argv[0], failed, exit)
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
			return refuse(exitOf(sig, false))
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
		Timeout: s.Timeout, Lead: grace + s.Splay + s.Timeout, Logger: log, Hint: hintOf}, o.results)
	src := newSecretSource(s, path, argv, environ, log, k, o.env)
	log.Info("supervise", withCode(o.summary(argv[0]), codeSuperviseStart)...)
	if msrv != nil {
		msrv.Serve(src.metricsState)
	}
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
func withCode(attrs []any, code logcode.Code) []any {
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

// secretSource is the supervise.Source over the providers: it turns the
// values the Keeper holds into environments for the command. Per variable,
// the target is the newest good value of its secret, except
// N8N_ENCRYPTION_KEY (with the guard on), which keeps the value the command
// runs with: a new key is never rolled out, and is logged once per new
// value. A target equal to what the command runs with cancels a change not
// applied yet (a revert). Only supervise's worker goroutine calls its
// methods, except Snapshot.
type secretSource struct {
	s       *settings
	path    string // the command's file
	argv    []string
	environ []string // the injector's own environment, with the references
	log     *slog.Logger
	keeper  *watch.Keeper
	remove  func(string) bool

	applied  []string          // the environment the command runs with (or was signaled for)
	offered  *supervise.Update // the change returned and not settled yet
	decided  string            // digest of the values last decided on (applied, offered, refused or ignored)
	keyTold  string            // fingerprint of the held new key last logged
	exitHeld string            // digest of the values the exit policy last held back for a new key
	sets     map[*supervise.Update]*watch.Set
	mask     *supervise.Masker // nil unless N8N_SECRETS_MASK

	snap atomic.Pointer[SourceSnapshot]
}

// SourceSnapshot is what supervise mode reports beyond the Keeper's own
// snapshot: the fingerprints of the key the command runs with and of a new
// one held back. Published values are never changed.
type SourceSnapshot struct {
	Watch              *watch.Snapshot
	KeyFingerprint     string // of the N8N_ENCRYPTION_KEY the command runs with; "" without one
	HeldKeyFingerprint string // of a new key in the store that is not rolled out; "" when none
}

var _ supervise.Source = (*secretSource)(nil)

func newSecretSource(s *settings, path string, argv, environ []string, log *slog.Logger, k *watch.Keeper, env []string) *secretSource {
	src := &secretSource{s: s, path: path, argv: argv, environ: environ, log: log, keeper: k, remove: removeFunc(s),
		applied: env, sets: map[*supervise.Update]*watch.Set{}}
	src.decided = k.Applied().Digest()
	src.publish("")
	return src
}

// Snapshot returns the state published after the last round; safe from any
// goroutine.
func (src *secretSource) Snapshot() *SourceSnapshot { return src.snap.Load() }

func (src *secretSource) publish(held string) {
	snap := &SourceSnapshot{Watch: src.keeper.Snapshot(), HeldKeyFingerprint: held}
	if k := envMap(src.applied)[n8n.EnvKey]; k != "" {
		snap.KeyFingerprint = n8n.Fingerprint(k)
	}
	src.snap.Store(snap)
}

func (src *secretSource) Refresh(ctx context.Context) *supervise.Update {
	return src.decide(ctx, src.keeper.Refresh(ctx))
}

func (src *secretSource) Renew(ctx context.Context) *supervise.Update {
	return src.decide(ctx, src.keeper.Renew(ctx))
}

func (src *secretSource) Due() time.Time { return src.keeper.Due() }

func (src *secretSource) Settle(ctx context.Context, u *supervise.Update, outcome supervise.Outcome) {
	set := src.sets[u]
	delete(src.sets, u)
	if u == src.offered {
		src.offered = nil
	}
	if set == nil {
		return
	}
	switch outcome {
	case supervise.Restarted:
		src.applied = u.Env
		src.keeper.Adopt(ctx, set, u.Reason, true)
	case supervise.Signaled:
		// The command keeps its environment (the leases in it too) but
		// was told of these values: a return to the old ones is a change.
		src.applied = u.Env
		src.keeper.Adopt(ctx, set, u.Reason, false)
	default:
		src.keeper.Drop(ctx, set)
	}
	src.publish(src.snap.Load().HeldKeyFingerprint)
}

func (src *secretSource) Close(ctx context.Context) { src.keeper.Close(ctx) }

// hold names the variables whose new values are never rolled out: the
// encryption key, while the guard is on.
func (src *secretSource) hold(name string) bool {
	return src.s.N8N != n8n.ModeOff && name == n8n.EnvKey
}

// decide turns what a round found into a change for the command, or nil.
func (src *secretSource) decide(ctx context.Context, c *watch.Change) *supervise.Update {
	if c == nil {
		src.publish(src.snap.Load().HeldKeyFingerprint)
		return nil
	}
	held := src.heldKey()
	defer func() { src.publish(held) }()
	set := src.keeper.Target(src.hold)
	// Compared value by value: the environment also holds what the guard
	// set at start (N8N_BLOCK_ENV_ACCESS_IN_NODE), which only the guard
	// adds again.
	digest := set.Digest()
	drop := func() { src.keeper.Drop(ctx, set) }
	if watch.Same(set, src.keeper.Applied()) {
		src.decided = digest
		if src.offered != nil {
			// The stores hold again what the command runs with.
			u := &supervise.Update{Env: src.applied, Reason: c.Reason, Revert: true}
			src.sets[u] = src.keeper.Applied()
			drop()
			return u
		}
		// New versions with the values the command has, or values back
		// to them; not a new key held back.
		var same []string
		for _, v := range append(c.Same, c.Vars...) {
			if !(held != "" && v == n8n.EnvKey) {
				same = append(same, v)
			}
		}
		if len(same) > 0 {
			sort.Strings(same)
			src.log.Info("new versions hold the values the command has: nothing to do", "code", codeValuesUnchanged,
				"reason", c.Reason, "vars", slices.Compact(same))
		}
		drop()
		return nil
	}
	if p, _ := supervise.ParsePolicy(src.s.OnChange); held != "" && p.Action == supervise.Exit {
		// The orchestrator would start the node again, and the new start
		// resolves the key anew: the held-back one, which nothing is
		// encrypted with yet. Applied once the store holds the key the
		// command has again (decided is cleared for that).
		src.decided = ""
		if src.exitHeld != digest {
			src.exitHeld = digest
			env := inject.BuildEnv(src.environ, set.Results, src.remove)
			src.refuse(c.Reason, "N8N_SECRETS_ON_CHANGE=exit would start the node again with the new N8N_ENCRYPTION_KEY held back",
				"vars", changedVars(envMap(src.applied), envMap(env)),
				"hint", "rekey and restart every node (docs/rekey.md), or put the old key back as the newest version; pin the key's version (?version=N) so that a new key never reaches a restart")
		}
		drop()
		if src.offered != nil {
			// An exit already waits for its splay: cancel it too.
			u := &supervise.Update{Env: src.applied, Reason: c.Reason, Revert: true}
			src.sets[u] = src.keeper.Applied()
			return u
		}
		return nil
	}
	if digest == src.decided {
		// Offered already (it waits for its splay), refused or ignored.
		drop()
		return nil
	}
	src.decided = digest
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
	switch {
	case len(o.errs) > 0:
		src.refuse(c.Reason, "the n8n guard did not finish", "failed", len(o.errs))
		drop()
		return nil
	case o.guardErr != nil:
		src.refuse(c.Reason, "the n8n guard could not run", "error", o.guardErr.Error())
		drop()
		return nil
	case o.guard != nil && o.guard.Failed():
		for _, f := range o.guard.Findings {
			if f.Severity == n8n.Error {
				src.log.Error(f.Message, "code", f.Code, "role", string(o.guard.Role), "hint", f.Hint)
			}
		}
		src.refuse(c.Reason, "the n8n guard refused the new values", "n8n_key_fingerprint", o.guard.Fingerprint)
		drop()
		return nil
	}
	env = o.env
	// What execve would refuse must not stop the running command for a
	// start that cannot happen.
	if errs := inject.CheckExecSize(src.path, src.argv, env, inject.ArgSpace()); len(errs) > 0 {
		for _, err := range errs {
			o.logFailure(src.log, err)
		}
		src.refuse(c.Reason, "the new environment is too large to start the command with", "failed", len(errs))
		drop()
		return nil
	}
	vars := changedVars(envMap(src.applied), envMap(env))
	if len(vars) == 0 {
		// Different values, the same environment (a variable the child
		// does not get): nothing to restart for.
		drop()
		return nil
	}
	src.mask.Add((&outcome{results: set.Results, envFrom: inject.EnvFromLayout(src.environ, set.Results)}).injectedValues())
	u := &supervise.Update{Env: env, Vars: vars, Reason: c.Reason, Deadline: c.Deadline, Detected: c.Detected}
	src.keeper.Propose(set)
	src.sets[u] = set
	src.offered = u
	return u
}

// heldKey logs, once per new value, that N8N_ENCRYPTION_KEY has a new
// value in the store that the command will not get, and returns its
// fingerprint ("" when the store holds the key the command has).
func (src *secretSource) heldKey() string {
	if src.s.N8N == n8n.ModeOff {
		return ""
	}
	var newKey string
	found := false
	for _, r := range src.keeper.Target(nil).Results {
		if r.Var == n8n.EnvKey {
			found = true
			if !r.Removed {
				newKey = string(r.Value.Reveal())
			}
		}
	}
	old := envMap(src.applied)[n8n.EnvKey]
	if !found || newKey == old {
		src.keyTold = ""
		return ""
	}
	fp := "(none)"
	if newKey != "" {
		fp = n8n.Fingerprint(newKey)
	}
	if fp == src.keyTold {
		return fp
	}
	src.keyTold = fp
	attrs := []any{"code", codeKeyChanged, "var", n8n.EnvKey, "new_n8n_key_fingerprint", fp,
		"hint", "the key changes only with every node stopped: re-encrypt n8n's data with the new key (n8n-secrets rekey), then start the nodes again; the other secrets are still rolled out"}
	if old != "" {
		attrs = append(attrs, "n8n_key_fingerprint", n8n.Fingerprint(old))
	}
	src.log.Error("N8N_ENCRYPTION_KEY changed in the store: the command keeps running with the old key", attrs...)
	return fp
}

// refuse logs, once per target, that new values will not reach the
// command.
func (src *secretSource) refuse(reason, msg string, attrs ...any) {
	src.log.Error(msg+": the command keeps running with the values it has",
		append([]any{"code", codeUpdateRefused, "reason", reason}, attrs...)...)
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
