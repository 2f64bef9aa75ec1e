package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
)

// outcome is everything one resolution produced, for exec mode and check.
type outcome struct {
	results  []inject.Result
	errs     []error     // setting, reference and resolution failures
	env      []string    // the child's environment, when errs is empty
	guard    *n8n.Report // nil when the guard is off
	guardErr error       // the guard could not run (bad settings)
	removed  int         // variables kept from the child (settings, credentials)
	fetches  int         // distinct secrets fetched
	schemes  []string    // the providers used, in order of first use
	// leftFileVars are NAME_FILE variables not resolved (their file is
	// outside the secrets mounts): passed on as they are.
	leftFileVars []string
	// foreign are variables holding another tool's reference, passed on
	// as they are.
	foreign []inject.Foreign
	// envFrom are the variables the env-from secrets give, once resolved.
	envFrom []inject.EnvFromEntry
	started time.Time

	access   accessReview     // check: what the credentials may do beyond the reads
	requests map[string]int64 // requests sent, by scheme, for providers that count them
	// For supervise mode, which keeps the providers open: what was asked
	// and who answered.
	reqs      []inject.Request
	providers map[string]inject.Provider
}

// afterResolve runs after resolution and before the providers are closed
// (a Vault login token is still valid), under the run's deadline: check's
// least-privilege review.
type afterResolve func(ctx context.Context, providers map[string]inject.Provider, o *outcome)

// stores are the stores this binary has (see package providers): the
// references it resolves, the providers it builds, the variables they own
// and the credentials kept from the child, their hints.
var stores = providers.Stores

// ownedVars are the variables the injector and the stores read: never
// scanned for references (their *_FILE variables are paths the provider
// reads itself).
var ownedVars, credentialVars = func() (inject.Matcher, inject.Matcher) {
	owned, creds := stores.Matchers()
	own := inject.Matcher{settingsPrefix + "*"}
	return append(own, owned...), append(own, creds...)
}()

// prepare scans environ, resolves every reference, builds the child's
// environment and runs the n8n guard. failFast stops at the first definite
// failure (exec mode); check wants every result. after, if any, run once
// resolution is done, before the providers are closed.
//
// ctx carries the start's one deadline and is canceled by a signal:
// everything here that reads a file or the network (provider set-up, which
// reads token and certificate files; the fetches; the guard, which reads
// n8n's settings file) runs under it and is abandoned when it ends. prepare
// writes nothing: what the guard decides to write is applied by the caller,
// last.
func prepare(ctx context.Context, s *settings, environ, argv []string, log *slog.Logger, failFast bool, after ...afterResolve) *outcome {
	o := &outcome{started: time.Now()}
	envm := envMap(environ)
	skip := inject.ParseMatcher(s.Skip)
	sc := inject.Scan(environ, inject.ScanOptions{
		Skip:        func(name string) bool { return ownedVars.Match(name) || skip.Match(name) },
		ResolveFile: s.resolveFile,
		Stores:      stores,
		FileStore:   file.Scheme,
		EnvFrom:     inject.ParseMatcher(s.EnvFrom), // a comma-separated list
		EnvFromVar:  settingByFlag("env-from").varName(),
	})
	reqs := sc.Requests
	o.errs, o.leftFileVars, o.foreign = sc.Errs, sc.Left, sc.Foreign
	if len(o.errs) > 0 && failFast {
		return o
	}
	var errs []error
	if len(reqs) > 0 {
		// A provider may log in: a signal must let it revoke.
		watchSignalsFrom(ctx)
	}

	providers := o.setUp(ctx, s, envm, reqs, log)
	r := &inject.Resolver{Providers: providers, Concurrency: s.Concurrency, FailFast: failFast, Logger: log}
	o.results, errs = r.Resolve(ctx, reqs)
	o.errs = append(o.errs, errs...)
	// The resolution's own requests, before a review's or a revoke's.
	o.requests = requestCounts(providers)
	for _, f := range after {
		f(ctx, providers, o)
	}
	o.reqs, o.providers = reqs, providers
	if !s.keepProviders || len(o.errs) > 0 {
		// Revoking a login token is a round trip of its own: it runs
		// while the guard does its work, and is done before prepare
		// returns (before exec).
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			closeProviders(ctx, providers, log)
		}()
		defer func() { <-closed }()
	}
	keys := map[inject.Reference]bool{}
	for _, q := range reqs {
		keys[q.Ref.FetchKey()] = true
	}
	o.fetches = len(keys)
	if len(o.errs) > 0 {
		return o
	}

	passthrough := inject.ParseMatcher(s.Passthrough)
	removeVar := func(name string) bool {
		return credentialVars.Match(name) && !passthrough.Match(name)
	}
	o.env = inject.BuildEnv(environ, o.results, removeVar)
	o.envFrom = inject.EnvFromLayout(environ, o.results)
	for k := range envm {
		if removeVar(k) {
			o.removed++
		}
	}
	o.runGuard(ctx, s, argv)
	if argv != nil {
		// What execve would refuse, named before the exec event, not after.
		o.errs = append(o.errs, inject.CheckExecSize(argv[0], argv, o.env, inject.ArgSpace())...)
	}
	return o
}

// setUp builds the provider of each scheme the requests use, under ctx:
// a provider that cannot be set up (or whose set-up does not finish before
// the deadline, such as a token file that is a FIFO) fails each of its
// variables with the reason.
func (o *outcome) setUp(ctx context.Context, s *settings, envm map[string]string, reqs []inject.Request, log *slog.Logger) map[string]inject.Provider {
	providers := map[string]inject.Provider{}
	for _, q := range reqs {
		scheme := q.Ref.Scheme
		if _, done := providers[scheme]; done {
			continue
		}
		o.schemes = append(o.schemes, scheme)
		st, ok := stores.Lookup(scheme)
		if !ok {
			providers[scheme] = broken{fmt.Errorf("%w: this build has no %s provider", inject.ErrNotConfigured, scheme)}
			continue
		}
		cfg := inject.Config{Getenv: func(k string) string { return envm[k] }, SecretsDir: s.Dir, AllowHTTP: s.AllowHTTP, Logger: log}
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
func (s *settings) resolveFile(fileVar, path string) bool {
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

// closeProviders releases what providers hold (a Vault token obtained by
// logging in is revoked). It runs under the start's deadline, but not cut
// short by a signal (a token left valid is worse than a second's wait), and
// with at least cleanupGrace when resolution used the deadline up; a
// provider that does not finish in time is abandoned.
func closeProviders(ctx context.Context, providers map[string]inject.Provider, log *slog.Logger) {
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
			log.Warn("provider cleanup failed", "code", codeCleanupFailed, "scheme", scheme, "cause", inject.CodeOf(err), "error", err.Error())
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
func (o *outcome) injectedNames() []string {
	var names []string
	for _, r := range o.results {
		if r.Err == nil && !r.Removed && !r.EnvFrom {
			names = append(names, r.Var)
		}
	}
	for _, e := range o.envFrom {
		if e.ShadowedBy == "" {
			names = append(names, e.Name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// injectedValues returns the values the injector put in the child's
// environment, for masking.
func (o *outcome) injectedValues() [][]byte {
	var vals [][]byte
	for _, r := range o.results {
		if r.Err == nil && !r.Removed && !r.EnvFrom {
			vals = append(vals, r.Value.Reveal())
		}
	}
	for _, e := range o.envFrom {
		if e.ShadowedBy == "" {
			vals = append(vals, e.Value.Reveal())
		}
	}
	return vals
}

// report logs one event per variable and per failure, and returns the exit
// code: 0 when the command may start. command is the command's name, for
// the "not starting" event.
func (o *outcome) report(log *slog.Logger, command string) int {
	for _, f := range o.foreign {
		log.Warn("the value is another tool's reference, which n8n-secrets does not resolve: passed on as it is",
			"code", codeForeignReference, "var", f.Var, "tool", f.Tool,
			"hint", f.Hint+"; a value meant literally goes in N8N_SECRETS_SKIP, which silences this")
	}
	for _, r := range o.results {
		if r.Err != nil || r.EnvFrom {
			continue
		}
		attrs := []any{"var", r.Var, "scheme", r.Ref.Scheme, "path", r.Ref.Path()}
		if r.Template != nil {
			attrs = append(attrs, "reference", r.Part) // the n-th ${…} of the value
		}
		if r.FileVar != "" {
			attrs = append(attrs, "from", r.FileVar)
		}
		if r.Ref.Selector != "" {
			attrs = append(attrs, "selector", r.Ref.Selector)
		}
		if r.Version != "" {
			attrs = append(attrs, "version", r.Version)
		}
		attrs = append(attrs, "duration_ms", ms(r.Duration), "attempts", r.Attempts)
		if r.Removed {
			log.Warn("optional secret missing, variable removed", append([]any{"code", codeOptionalMissing}, attrs...)...)
		} else {
			log.Info("resolved", append([]any{"code", codeResolved}, attrs...)...)
		}
	}
	o.reportEnvFrom(log)
	if len(o.leftFileVars) > 0 {
		log.Info("NAME_FILE variables outside the secrets mounts left as they are", "code", codeFileVarsLeft,
			"vars", o.leftFileVars, "hint", "to resolve one, list it in N8N_SECRETS_FILE_VARS or mount its file under the secrets dir")
	}
	for _, err := range o.errs {
		o.logFailure(log, err)
	}
	if len(o.errs) > 0 {
		codes := failedCodes(o.errs)
		return o.notStarting(log, command, codes, exitOf(0, false, codes...))
	}
	return o.guardExit(log, command)
}

// reportEnvFrom logs one event per variable an env-from secret gave: the
// child gets it (RESOLVED), or a variable set before wins
// (ENV_FROM_SHADOWED). An env-from secret that is missing and optional is
// logged as such.
func (o *outcome) reportEnvFrom(log *slog.Logger) {
	for _, r := range o.results {
		if r.EnvFrom && r.Err == nil && r.Removed {
			log.Warn("optional secret missing: it gives no variable", "code", codeOptionalMissing, "var", r.Var, "item", r.Part,
				"scheme", r.Ref.Scheme, "path", r.Ref.Path())
		}
	}
	for _, e := range o.envFrom {
		attrs := []any{"var", e.Name, "scheme", e.Ref.Scheme, "path", e.Ref.Path(), "from", settingByFlag("env-from").varName(), "item", e.Item}
		if e.ShadowedBy != "" {
			log.Info("a variable of an env-from secret is set already: the child keeps the value set first",
				append([]any{"code", codeEnvFromShadowed, "kept", e.ShadowedBy}, attrs...)...)
			continue
		}
		log.Info("resolved", append([]any{"code", codeResolved}, attrs...)...)
	}
}

// notStarting logs the one event that says the start was refused, with
// the codes of what failed, and returns exit.
func (o *outcome) notStarting(log *slog.Logger, command string, codes []logcode.Code, exit int) int {
	slices.SortFunc(codes, func(a, b logcode.Code) int { return strings.Compare(a.Name(), b.Name()) })
	codes = slices.Compact(codes)
	attrs := []any{"code", codeNotStarting, "failed_codes", codes, "command", command}
	if o.guard != nil {
		attrs = append(attrs, "n8n_role", string(o.guard.Role))
		if o.guard.Fingerprint != "" {
			attrs = append(attrs, "n8n_key_fingerprint", o.guard.Fingerprint)
		}
	}
	attrs = append(attrs, "exit", exit, "duration_ms", ms(time.Since(o.started)))
	log.Error("not starting", attrs...)
	return exit
}

// stopped reports a start stopped by sig after resolution, and returns
// 128+sig.
func (o *outcome) stopped(log *slog.Logger, command string, sig syscall.Signal) int {
	return o.notStarting(log, command, []logcode.Code{inject.CodeCanceled}, exitOf(sig, false))
}

// logFailure logs one failure with its code and a hint.
func (o *outcome) logFailure(log *slog.Logger, err error) {
	code := inject.CodeOf(err)
	attrs := []any{"code", code}
	var ve *inject.VarError
	msg, scheme := err.Error(), ""
	if errors.As(err, &ve) {
		attrs = append(attrs, "var", ve.Var)
		msg = ve.Err.Error()
		for _, r := range o.results {
			if r.Var == ve.Var {
				scheme = r.Ref.Scheme
				if r.FileVar != "" {
					attrs = append(attrs, "from", r.FileVar)
				}
				break
			}
		}
	}
	attrs = append(attrs, "error", msg)
	if h := hintOf(err, scheme); h != "" {
		attrs = append(attrs, "hint", h)
	}
	log.Error("secret not resolved", attrs...)
}

// hintOf returns what to do about err, for a reference of scheme ("" when
// not known): its own hint, else its code's for that store, else its
// code's.
func hintOf(err error, scheme string) string {
	if h := inject.HintOf(err); h != "" {
		return h
	}
	code := inject.CodeOf(err)
	if h := stores.Hint(scheme, code); h != "" {
		return h
	}
	return hints[code]
}

var hints = map[inject.Code]string{
	inject.CodeBadReference:        badReferenceHint(stores),
	inject.CodeSecretNotFound:      "check the path and version, or add ?optional=true if the variable may be absent",
	inject.CodeKeyNotFound:         "check the #key or #/json/pointer selector against the secret's keys",
	inject.CodePermissionDenied:    "the store's policy must allow reading this path for the identity used",
	inject.CodeAuthFailed:          "check the store's credentials",
	inject.CodeProviderUnavailable: "the store did not answer before the deadline; check its address and health, or raise N8N_SECRETS_TIMEOUT",
	inject.CodeConflict:            "set either NAME or NAME_FILE, not both",
	inject.CodeNotConfigured:       "configure the provider of this reference's scheme",
	inject.CodeCanceled:            "a signal stopped the start before every secret was fetched",
	inject.CodeTooLarge:            "Linux takes at most 128 KiB per environment variable: pass large values as files (NAME_FILE, or a file the program reads)",
}

// summary returns the attributes of the event logged just before exec.
func (o *outcome) summary(command string) []any {
	removed := 0
	for _, r := range o.results {
		if r.Removed {
			removed++
		}
	}
	providers := o.schemes
	if providers == nil {
		providers = []string{} // [] in JSON, as in text: never null
	}
	attrs := []any{"code", codeExec, "command", command, "variables", len(o.results) - removed, "fetches", o.fetches,
		"providers", providers, "optional_missing", removed, "env_removed", o.removed,
		"duration_ms", ms(time.Since(o.started)), "version", version, "pid", os.Getpid()}
	if o.guard != nil {
		attrs = append(attrs, "n8n_role", string(o.guard.Role))
		if o.guard.Fingerprint != "" {
			attrs = append(attrs, "n8n_key_fingerprint", o.guard.Fingerprint)
		}
	}
	return attrs
}

// badReferenceHint lists the grammar of every store, from the
// declarations.
func badReferenceHint(ss inject.Stores) string {
	var g []string
	for _, st := range ss {
		g = append(g, st.Syntax)
	}
	return "references are " + strings.Join(g, ", ") + "; see n8n-secrets --help; a value meant literally goes in N8N_SECRETS_SKIP"
}
