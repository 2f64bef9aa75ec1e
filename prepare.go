package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
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
	started  time.Time
}

// providerFactory builds the provider of one scheme. It must do no network
// I/O: providers log in lazily, inside the resolver's retries and deadline.
type providerFactory func(s *settings, env map[string]string, log *slog.Logger) (inject.Provider, error)

// factories are the providers this binary has, by scheme.
var factories = map[string]providerFactory{
	inject.SchemeFile: func(s *settings, _ map[string]string, _ *slog.Logger) (inject.Provider, error) {
		return file.New(s.Dir), nil
	},
	inject.SchemeVault: func(s *settings, env map[string]string, log *slog.Logger) (inject.Provider, error) {
		return vault.New(vault.Options{Getenv: func(k string) string { return env[k] }, SecretsDir: s.Dir, AllowHTTP: s.AllowHTTP, Logger: log})
	},
	inject.SchemeAWSSM: func(s *settings, env map[string]string, log *slog.Logger) (inject.Provider, error) {
		return awssm.New(awssm.Options{Getenv: func(k string) string { return env[k] }, AllowHTTP: s.AllowHTTP, Logger: log})
	},
}

// ownedVars are the variables providers read: never scanned for
// references (their *_FILE variables are paths the provider reads itself).
var ownedVars = inject.Matcher{settingsPrefix + "*", "VAULT_*", "AWS_*", "SSL_CERT_FILE"}

// credentialVars are removed from the child unless passed through.
var credentialVars = append(append(inject.Matcher{settingsPrefix + "*"}, vault.CredentialVars...), awssm.CredentialVars...)

// prepare scans environ, resolves every reference, builds the child's
// environment and runs the n8n guard. failFast stops at the first definite
// failure (exec mode); check wants every result.
func prepare(ctx context.Context, s *settings, environ, argv []string, log *slog.Logger, failFast bool) *outcome {
	o := &outcome{started: time.Now()}
	envm := envMap(environ)
	skip := inject.ParseMatcher(s.Skip)
	reqs, errs := inject.Scan(environ, func(name string) bool { return ownedVars.Match(name) || skip.Match(name) })
	o.errs = errs

	providers := map[string]inject.Provider{}
	for _, q := range reqs {
		scheme := q.Ref.Scheme
		if _, done := providers[scheme]; done {
			continue
		}
		o.schemes = append(o.schemes, scheme)
		f := factories[scheme]
		if f == nil {
			providers[scheme] = broken{fmt.Errorf("%w: this build has no %s provider", inject.ErrNotConfigured, scheme)}
			continue
		}
		p, err := f(s, envm, log)
		if err != nil {
			// Every variable of this scheme then fails with the reason.
			p = broken{err}
		}
		providers[scheme] = p
	}
	if len(o.errs) > 0 && failFast {
		return o
	}

	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	r := &inject.Resolver{Providers: providers, Concurrency: s.Concurrency, FailFast: failFast, Logger: log}
	o.results, errs = r.Resolve(ctx, reqs)
	o.errs = append(o.errs, errs...)
	closeProviders(providers, log)
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
	for k := range envm {
		if removeVar(k) {
			o.removed++
		}
	}
	o.runGuard(ctx, s, argv)
	return o
}

// broken stands for a provider that could not be set up: every fetch fails
// with the reason, so that each variable using it reports it.
type broken struct{ err error }

func (b broken) Fetch(context.Context, inject.Reference) (inject.Payload, error) {
	return inject.Payload{}, b.err
}

// closeProviders releases what providers hold (a Vault token obtained by
// logging in is revoked) under a short deadline of its own, so that it
// runs even when resolution used up the main one.
func closeProviders(providers map[string]inject.Provider, log *slog.Logger) {
	for scheme, p := range providers {
		c, ok := p.(inject.Closer)
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.Close(ctx); err != nil {
			log.Warn("provider cleanup failed", "scheme", scheme, "code", string(inject.CodeOf(err)), "error", err.Error())
		}
		cancel()
	}
}

// injectedNames lists the variables whose values the injector supplied.
func (o *outcome) injectedNames() []string {
	var names []string
	for _, r := range o.results {
		if r.Err == nil && !r.Removed {
			names = append(names, r.Var)
		}
	}
	sort.Strings(names)
	return names
}

// report logs one event per variable and per failure, and returns the exit
// code: 0 when the command may start.
func (o *outcome) report(log *slog.Logger) int {
	for _, r := range o.results {
		if r.Err != nil {
			continue
		}
		attrs := []any{"var", r.Var, "scheme", r.Ref.Scheme, "path", r.Ref.Path}
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
			log.Warn("optional secret missing, variable removed", attrs...)
		} else {
			log.Info("resolved", attrs...)
		}
	}
	for _, err := range o.errs {
		logFailure(log, err)
	}
	if len(o.errs) > 0 {
		code := inject.ExitCodeOf(o.errs)
		log.Error("not starting", "failed", len(o.errs), "exit", code, "duration_ms", ms(time.Since(o.started)))
		return code
	}
	return o.guardExit(log)
}

// logFailure logs one failure with its code and a hint.
func logFailure(log *slog.Logger, err error) {
	code := inject.CodeOf(err)
	attrs := []any{"code", string(code)}
	var ve *inject.VarError
	msg := err.Error()
	if errors.As(err, &ve) {
		attrs = append(attrs, "var", ve.Var)
		msg = ve.Err.Error()
	}
	attrs = append(attrs, "error", msg)
	if h := hints[code]; h != "" {
		attrs = append(attrs, "hint", h)
	}
	log.Error("secret not resolved", attrs...)
}

var hints = map[inject.Code]string{
	inject.CodeBadReference:        "references are vault://path[?version=N][#key], awssm://id[?version-stage=S][#key], file:name[#key] or file:///path; see n8n-secrets --help",
	inject.CodeSecretNotFound:      "check the path and version, or add ?optional=true if the variable may be absent",
	inject.CodeKeyNotFound:         "check the #key or #/json/pointer selector against the secret's keys",
	inject.CodePermissionDenied:    "the store's policy must allow reading this path for the identity used",
	inject.CodeAuthFailed:          "check the store's credentials: for Vault the token, AppRole ids or service-account JWT (under the secrets dir); for AWS the SDK's credential chain",
	inject.CodeProviderUnavailable: "the store did not answer before the deadline; check its address and health, or raise N8N_SECRETS_TIMEOUT",
	inject.CodeConflict:            "set either NAME or NAME_FILE, not both",
	inject.CodeNotConfigured:       "configure the provider: for Vault VAULT_ADDR and credentials, for AWS a region (AWS_REGION or ?region=) and credentials",
	inject.CodeCanceled:            "a signal stopped the start before every secret was fetched",
}

// summary returns the attributes of the event logged just before exec.
func (o *outcome) summary(command string) []any {
	removed := 0
	for _, r := range o.results {
		if r.Removed {
			removed++
		}
	}
	attrs := []any{"command", command, "variables", len(o.results) - removed, "fetches", o.fetches,
		"providers", o.schemes, "optional_missing", removed, "env_removed", o.removed,
		"duration_ms", ms(time.Since(o.started)), "version", version, "pid", os.Getpid()}
	if o.guard != nil && o.guard.Fingerprint != "" {
		attrs = append(attrs, "n8n_key_fingerprint", o.guard.Fingerprint, "n8n_role", string(o.guard.Role))
	}
	return attrs
}
