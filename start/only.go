package start

import (
	"log/slog"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
)

// Only says what a command that needs a few variables resolves (the key
// commands: fingerprint, verify-key, rekey).
type Only struct {
	// Keep selects the variables to resolve; the stores' own variables
	// are kept too, for the stores' set-up.
	Keep func(name string) bool
	// Extra are NAME=value entries the command adds (rekey's keys).
	Extra []string
	// FileVars are NAME_FILE variables read wherever their file is (the
	// operator named them), on top of N8N_SECRETS_FILE_VARS.
	FileVars []string
	// LogWith, if set, returns the logger a failure is logged with (an
	// error about one of rekey's keys names the flag too).
	LogWith func(log *slog.Logger, err error) *slog.Logger
}

// ResolveOnly resolves, through Prepare like every command and with no
// command to guard, only the variables only selects, logs each failure,
// and returns the environment they resolved to. A failure is returned
// logged (128+N when signal N stopped the run). A signal received during
// the run stops it (128+N) also when every reference resolved: the
// command does not carry on after SIGTERM.
func (r *Run) ResolveOnly(opts Options, only Only) (environ.Env, error) {
	owned := OwnedVars(opts.Stores)
	var list []string
	for _, kv := range opts.Env.List() {
		if name, _, _ := strings.Cut(kv, "="); only.Keep(name) || owned.Match(name) {
			list = append(list, kv)
		}
	}
	list = append(list, only.Extra...)
	s := *opts.Settings
	if len(only.FileVars) > 0 {
		s.FileVars = strings.Join(append([]string{s.FileVars}, only.FileVars...), ",")
	}
	opts.Settings, opts.Env, opts.Argv, opts.FailFast = &s, environ.New(list), nil, true
	o := r.Prepare(opts)
	for _, err := range o.Errs {
		l := opts.Log
		if only.LogWith != nil {
			l = only.LogWith(l, err)
		}
		o.LogFailure(l, err)
	}
	if len(o.Errs) > 0 {
		// A signal that stopped the resolution exits 128+signal (143 for
		// SIGTERM), as the default mode does, not CANCELED's 130.
		return environ.Env{}, &failure.Failure{Codes: FailedCodes(o.Errs), Signal: r.Received(), Logged: true}
	}
	if err := r.Signaled(); err != nil {
		return environ.Env{}, err
	}
	return environ.New(o.Env), nil
}
