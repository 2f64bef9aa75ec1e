package start

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
)

// Outcome is everything one resolution produced.
type Outcome struct {
	Results  []inject.Result
	Errs     []error     // setting, reference and resolution failures
	Env      []string    // the child's environment, when Errs is empty
	Guard    *n8n.Report // nil when the guard is off
	GuardErr error       // the guard could not run (bad settings)
	Removed  int         // variables kept from the child (settings, credentials)
	Fetches  int         // distinct secrets fetched
	Schemes  []string    // the providers used, in order of first use
	// LeftFileVars are NAME_FILE variables not resolved (their file is
	// outside the secrets mounts): passed on as they are.
	LeftFileVars []string
	// Foreign are variables holding another tool's reference, passed on
	// as they are.
	Foreign []inject.Foreign
	// EnvFrom are the variables the env-from secrets give, once resolved.
	EnvFrom []inject.EnvFromEntry
	started time.Time
	// received returns the signal the run received so far (0 for none);
	// nil outside a Run. The "not starting" event's exit takes it.
	received func() syscall.Signal

	Requests map[string]int64 // requests sent, by scheme, for providers that count them
	// For supervise mode, which keeps the providers open: what was asked
	// and who answered.
	Reqs      []inject.Request
	Providers map[string]inject.Provider

	opts Options
}

// AfterResolve runs after resolution and before the providers are closed
// (a Vault login token is still valid), under the run's deadline: check's
// least-privilege review.
type AfterResolve func(ctx context.Context, providers map[string]inject.Provider, o *Outcome)

// Options are what one resolution works from.
type Options struct {
	Settings *settings.Settings
	// Env is the environment the command works with (read once).
	Env environ.Env
	// Stores are the stores this binary has: the references it resolves,
	// the providers it builds, the variables they own and the credentials
	// kept from the child, their hints.
	Stores inject.Stores
	// Argv is the command, whose name the n8n guard decides on; nil for
	// none (the guard does not run).
	Argv []string
	Log  *slog.Logger
	// FailFast stops at the first definite failure (a start); check wants
	// every result.
	FailFast bool
	// KeepProviders leaves the providers open (supervise mode renews and
	// watches with them); the caller closes them (CloseProviders).
	KeepProviders bool
	// After run once resolution is done, before the providers are closed.
	After []AfterResolve
}

// OwnedVars are the variables the injector and the stores read: never
// scanned for references (their *_FILE variables are paths the provider
// reads itself).
func OwnedVars(stores inject.Stores) inject.Matcher {
	owned, _ := stores.Matchers()
	return append(inject.Matcher{settings.Prefix + "*"}, owned...)
}

// RemoveFunc reports the variables kept from the child: the settings and
// the stores' credentials, unless passed through.
func RemoveFunc(s *settings.Settings, stores inject.Stores) func(string) bool {
	_, creds := stores.Matchers()
	credentialVars := append(inject.Matcher{settings.Prefix + "*"}, creds...)
	passthrough := inject.ParseMatcher(s.Passthrough)
	return func(name string) bool { return credentialVars.Match(name) && !passthrough.Match(name) }
}

// prepare scans opts.Env, resolves every reference, builds the child's
// environment and runs the n8n guard. opts.FailFast stops at the first
// definite failure (a start); check wants every result. opts.After, if
// any, run once resolution is done, before the providers are closed.
//
// ctx carries the start's one deadline and is canceled by a signal:
// everything here that reads a file or the network (provider set-up, which
// reads token and certificate files; the fetches; the guard, which reads
// n8n's settings file) runs under it and is abandoned when it ends. prepare
// writes nothing: what the guard decides to write is applied by the caller,
// last.
func prepare(ctx context.Context, opts Options) *Outcome {
	o := &Outcome{started: time.Now(), opts: opts}
	s, env, log := opts.Settings, opts.Env, opts.Log
	skip := inject.ParseMatcher(s.Skip)
	owned := OwnedVars(opts.Stores)
	sc := inject.Scan(env.List(), inject.ScanOptions{
		Skip:        func(name string) bool { return owned.Match(name) || skip.Match(name) },
		ResolveFile: func(fileVar, path string) bool { return resolveFile(s, fileVar, path) },
		Stores:      opts.Stores,
		FileStore:   file.Scheme,
		EnvFrom:     inject.ParseMatcher(s.EnvFrom), // a comma-separated list
		EnvFromVar:  settings.ByFlag("env-from").VarName(),
	})
	reqs := sc.Requests
	o.Errs, o.LeftFileVars, o.Foreign = sc.Errs, sc.Left, sc.Foreign
	if len(o.Errs) > 0 && opts.FailFast {
		return o
	}
	var errs []error
	if len(reqs) > 0 {
		// A provider may log in: a signal must let it revoke.
		watchSignalsFrom(ctx)
	}

	providers := o.setUp(ctx, s, env, reqs, log)
	r := &inject.Resolver{Providers: providers, Concurrency: s.Concurrency, FailFast: opts.FailFast, Logger: log}
	o.Results, errs = r.Resolve(ctx, reqs)
	o.Errs = append(o.Errs, errs...)
	// The resolution's own requests, before a review's or a revoke's.
	o.Requests = requestCounts(providers)
	for _, f := range opts.After {
		f(ctx, providers, o)
	}
	o.Reqs, o.Providers = reqs, providers
	if !opts.KeepProviders || len(o.Errs) > 0 {
		// Revoking a login token is a round trip of its own: it runs
		// while the guard does its work, and is done before prepare
		// returns (before exec).
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			CloseProviders(ctx, providers, log)
		}()
		defer func() { <-closed }()
	}
	keys := map[inject.Reference]bool{}
	for _, q := range reqs {
		keys[q.Ref.FetchKey()] = true
	}
	o.Fetches = len(keys)
	if len(o.Errs) > 0 {
		return o
	}

	removeVar := RemoveFunc(s, opts.Stores)
	o.Env = inject.BuildEnv(env.List(), o.Results, removeVar)
	o.EnvFrom = inject.EnvFromLayout(env.List(), o.Results)
	for k := range env.Map() {
		if removeVar(k) {
			o.Removed++
		}
	}
	o.runGuard(ctx, s, opts.Argv)
	if opts.Argv != nil {
		// What execve would refuse, named before the exec event, not after.
		o.Errs = append(o.Errs, inject.CheckExecSize(opts.Argv[0], opts.Argv, o.Env, inject.ArgSpace())...)
	}
	return o
}

// setUp builds the provider of each scheme the requests use, under ctx:
// a provider that cannot be set up (or whose set-up does not finish before
// the deadline, such as a token file that is a FIFO) fails each of its
// variables with the reason.
func (o *Outcome) setUp(ctx context.Context, s *settings.Settings, env environ.Env, reqs []inject.Request, log *slog.Logger) map[string]inject.Provider {
	providers := map[string]inject.Provider{}
	for _, q := range reqs {
		scheme := q.Ref.Scheme
		if _, done := providers[scheme]; done {
			continue
		}
		o.Schemes = append(o.Schemes, scheme)
		st, ok := o.opts.Stores.Lookup(scheme)
		if !ok {
			providers[scheme] = broken{fmt.Errorf("%w: this build has no %s provider", inject.ErrNotConfigured, scheme)}
			continue
		}
		cfg := inject.Config{Getenv: env.Get, SecretsDir: s.Dir, AllowHTTP: s.AllowHTTP, Logger: log}
		p, err := inject.Call(ctx, func() (inject.Provider, error) { return st.New(cfg) })
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%s: setting up the provider (reading its credential and certificate files) did not finish: %w", scheme, err)
			}
			p = broken{err}
		}
		providers[scheme] = p
	}
	return providers
}

// secretMounts are where secrets are mounted in containers: a NAME_FILE
// whose file is under one of them, or under the secrets dir, is resolved.
var secretMounts = []string{"/run/secrets", "/var/run/secrets"}

// resolveFile decides whether NAME_FILE=path is resolved: when its file
// lies under the secrets dir, /run/secrets or /var/run/secrets (where
// Docker, Swarm and Kubernetes mount secrets), or when N8N_SECRETS_FILE_VARS
// names it ("*" for all). A developer shell's TF_CLI_CONFIG_FILE or
// NIX_SSL_CERT_FILE point elsewhere: they are left alone for the programs
// that read them, instead of failing the start or loading a CA bundle into
// the environment.
func resolveFile(s *settings.Settings, fileVar, path string) bool {
	if m := inject.ParseMatcher(s.FileVars); m.Match(fileVar) || m.Match(strings.TrimSuffix(fileVar, "_FILE")) {
		return true
	}
	p := filepath.Clean(path)
	for _, dir := range append([]string{s.Dir}, secretMounts...) {
		if d := filepath.Clean(dir); filepath.IsAbs(d) && strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}

// broken stands for a provider that could not be set up: every fetch fails
// with the reason, so that each variable using it reports it.
type broken struct{ err error }

func (b broken) Fetch(context.Context, inject.Reference) (inject.Payload, error) {
	return inject.Payload{}, b.err
}

// CloseProviders releases what providers hold (a Vault token obtained by
// logging in is revoked). It runs under the start's deadline, but not cut
// short by a signal (a token left valid is worse than a second's wait), and
// with at least cleanupGrace when resolution used the deadline up; a
// provider that does not finish in time is abandoned.
func CloseProviders(ctx context.Context, providers map[string]inject.Provider, log *slog.Logger) {
	deadline := time.Now().Add(cleanupGrace)
	if d, ok := ctx.Deadline(); ok && d.After(deadline) {
		deadline = d
	}
	cctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	for scheme, p := range providers {
		c, ok := p.(inject.Closer)
		if !ok {
			continue
		}
		if _, err := inject.Call(cctx, func() (struct{}, error) { return struct{}{}, c.Close(cctx) }); err != nil {
			log.Warn("provider cleanup failed", "code", CodeCleanupFailed, "scheme", scheme, "cause", inject.CodeOf(err), "error", err.Error())
		}
	}
}

// cleanupGrace is the least time provider cleanup gets.
const cleanupGrace = 2 * time.Second

// requestCounts returns the requests each provider that counts them sent.
func requestCounts(providers map[string]inject.Provider) map[string]int64 {
	n := map[string]int64{}
	for scheme, p := range providers {
		if rc, ok := p.(inject.RequestCounter); ok {
			n[scheme] = rc.Requests()
		}
	}
	return n
}

// injectedNames lists the variables whose values the injector supplied.
func (o *Outcome) injectedNames() []string {
	var names []string
	for _, r := range o.Results {
		if r.Err == nil && !r.Removed && !r.EnvFrom {
			names = append(names, r.Var)
		}
	}
	for _, e := range o.EnvFrom {
		if e.ShadowedBy == "" {
			names = append(names, e.Name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// InjectedValues returns the values the injector put in the child's
// environment, for masking.
func (o *Outcome) InjectedValues() [][]byte {
	var vals [][]byte
	for _, r := range o.Results {
		if r.Err == nil && !r.Removed && !r.EnvFrom {
			vals = append(vals, r.Value.Reveal())
		}
	}
	for _, e := range o.EnvFrom {
		if e.ShadowedBy == "" {
			vals = append(vals, e.Value.Reveal())
		}
	}
	return vals
}
