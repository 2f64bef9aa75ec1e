package start

// The source of new values in supervise mode: it turns what the stores
// hold (package watch) into environments for the command (package
// supervise), through the n8n guard as at start.

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/supervise"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

// Source is the supervise.Source over the providers: it turns the
// values the Keeper holds into environments for the command. Per variable,
// the target is the newest good value of its secret, except
// N8N_ENCRYPTION_KEY (with the guard on), which keeps the value the command
// runs with: a new key is never rolled out, and is logged once per new
// value. A target equal to what the command runs with cancels a change not
// applied yet (a revert). Only supervise's worker goroutine calls its
// methods, except Snapshot.
type Source struct {
	s       *settings.Settings
	stores  inject.Stores
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
	// Mask, when set (N8N_SECRETS_MASK), learns every new value before
	// the command can print it.
	Mask *supervise.Masker

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

var _ supervise.Source = (*Source)(nil)

// NewSource returns the source of new values for the command st started,
// from env (the injector's own environment, with the references) and the
// Keeper k over st's providers.
func NewSource(opts Options, st *Started, k *watch.Keeper) *Source {
	src := &Source{s: opts.Settings, stores: opts.Stores, path: st.Path, argv: opts.Argv, environ: opts.Env.List(), log: opts.Log, keeper: k,
		remove: RemoveFunc(opts.Settings, opts.Stores), applied: st.Env, sets: map[*supervise.Update]*watch.Set{}}
	src.decided = k.Applied().Digest()
	src.publish("")
	return src
}

// Snapshot returns the state published after the last round; safe from any
// goroutine.
func (src *Source) Snapshot() *SourceSnapshot { return src.snap.Load() }

func (src *Source) publish(held string) {
	snap := &SourceSnapshot{Watch: src.keeper.Snapshot(), HeldKeyFingerprint: held}
	if k := environ.New(src.applied).Get(n8n.EnvKey); k != "" {
		snap.KeyFingerprint = n8n.Fingerprint(k)
	}
	src.snap.Store(snap)
}

func (src *Source) Refresh(ctx context.Context) *supervise.Update {
	return src.decide(ctx, src.keeper.Refresh(ctx))
}

func (src *Source) Renew(ctx context.Context) *supervise.Update {
	return src.decide(ctx, src.keeper.Renew(ctx))
}

func (src *Source) Due() time.Time { return src.keeper.Due() }

func (src *Source) Settle(ctx context.Context, u *supervise.Update, outcome supervise.Outcome) {
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

func (src *Source) Close(ctx context.Context) { src.keeper.Close(ctx) }

// hold names the variables whose new values are never rolled out: the
// encryption key, while the guard is on.
func (src *Source) hold(name string) bool {
	return src.s.N8N != n8n.ModeOff && name == n8n.EnvKey
}

// decide turns what a round found into a change for the command, or nil.
func (src *Source) decide(ctx context.Context, c *watch.Change) *supervise.Update {
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
			src.log.Info("new versions hold the values the command has: nothing to do", "code", CodeValuesUnchanged,
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
				"vars", changedVars(environ.New(src.applied).Map(), environ.New(env).Map()),
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
	o := &Outcome{Results: set.Results, Env: env, opts: Options{Stores: src.stores}}
	// The guard reads n8n's settings file and may ask n8n's database
	// (N8N_SECRETS_VERIFY_KEY): under the settings' deadline, as at start.
	gctx, cancel := context.WithTimeout(ctx, src.s.Timeout)
	o.runGuard(gctx, &check, src.argv)
	cancel()
	switch {
	case len(o.Errs) > 0:
		src.refuse(c.Reason, "the n8n guard did not finish", "failed", len(o.Errs))
		drop()
		return nil
	case o.GuardErr != nil:
		src.refuse(c.Reason, "the n8n guard could not run", "error", o.GuardErr.Error())
		drop()
		return nil
	case o.Guard != nil && o.Guard.Failed():
		for _, f := range o.Guard.Findings {
			if f.Severity == n8n.Error {
				src.log.Error(f.Message, "code", f.Code, "role", string(o.Guard.Role), "hint", f.Hint)
			}
		}
		src.refuse(c.Reason, "the n8n guard refused the new values", "n8n_key_fingerprint", o.Guard.Fingerprint)
		drop()
		return nil
	}
	env = o.Env
	// What execve would refuse must not stop the running command for a
	// start that cannot happen.
	if errs := inject.CheckExecSize(src.path, src.argv, env, inject.ArgSpace()); len(errs) > 0 {
		for _, err := range errs {
			o.LogFailure(src.log, err)
		}
		src.refuse(c.Reason, "the new environment is too large to start the command with", "failed", len(errs))
		drop()
		return nil
	}
	vars := changedVars(environ.New(src.applied).Map(), environ.New(env).Map())
	if len(vars) == 0 {
		// Different values, the same environment (a variable the child
		// does not get): nothing to restart for.
		drop()
		return nil
	}
	src.Mask.Add((&Outcome{Results: set.Results, EnvFrom: inject.EnvFromLayout(src.environ, set.Results)}).InjectedValues())
	u := &supervise.Update{Env: env, Vars: vars, Reason: c.Reason, Deadline: c.Deadline, Detected: c.Detected}
	src.keeper.Propose(set)
	src.sets[u] = set
	src.offered = u
	return u
}

// heldKey logs, once per new value, that N8N_ENCRYPTION_KEY has a new
// value in the store that the command will not get, and returns its
// fingerprint ("" when the store holds the key the command has).
func (src *Source) heldKey() string {
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
	old := environ.New(src.applied).Get(n8n.EnvKey)
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
	attrs := []any{"code", CodeKeyChanged, "var", n8n.EnvKey, "new_n8n_key_fingerprint", fp,
		"hint", "the key changes only with every node stopped: re-encrypt n8n's data with the new key (n8n-secrets rekey), then start the nodes again; the other secrets are still rolled out"}
	if old != "" {
		attrs = append(attrs, "n8n_key_fingerprint", n8n.Fingerprint(old))
	}
	src.log.Error("N8N_ENCRYPTION_KEY changed in the store: the command keeps running with the old key", attrs...)
	return fp
}

// refuse logs, once per target, that new values will not reach the
// command.
func (src *Source) refuse(reason, msg string, attrs ...any) {
	src.log.Error(msg+": the command keeps running with the values it has",
		append([]any{"code", CodeUpdateRefused, "reason", reason}, attrs...)...)
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
