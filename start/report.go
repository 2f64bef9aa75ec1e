package start

import (
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
)

// Version is the binary's version, for the exec event (main sets it).
var Version = "dev"

// Report logs one event per variable and per failure, and the n8n guard's
// findings, and returns the failure (logged) that refuses the start, or
// nil when the command may start. command is the command's name, for the
// "not starting" event.
func (o *Outcome) Report(log *slog.Logger, command string) error {
	for _, f := range o.Foreign {
		log.Warn("the value is another tool's reference, which n8n-secrets does not resolve: passed on as it is",
			"code", CodeForeignReference, "var", f.Var, "tool", f.Tool,
			"hint", f.Hint+"; a value meant literally goes in N8N_SECRETS_SKIP, which silences this")
	}
	for _, r := range o.Results {
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
			log.Warn("optional secret missing, variable removed", append([]any{"code", CodeOptionalMissing}, attrs...)...)
		} else {
			log.Info("resolved", append([]any{"code", CodeResolved}, attrs...)...)
		}
	}
	o.reportEnvFrom(log)
	if len(o.LeftFileVars) > 0 {
		log.Info("NAME_FILE variables outside the secrets mounts left as they are", "code", CodeFileVarsLeft,
			"vars", o.LeftFileVars, "hint", "to resolve one, list it in N8N_SECRETS_FILE_VARS or mount its file under the secrets dir")
	}
	for _, err := range o.Errs {
		o.LogFailure(log, err)
	}
	if len(o.Errs) > 0 {
		return o.notStarting(log, command, &failure.Failure{Codes: FailedCodes(o.Errs), Logged: true})
	}
	return o.guardFailure(log, command)
}

// FailedCodes returns the log codes of errs, failures of the resolution.
func FailedCodes(errs []error) []logcode.Code {
	codes := make([]logcode.Code, 0, len(errs))
	for _, err := range errs {
		codes = append(codes, inject.CodeOf(err))
	}
	return codes
}

// reportEnvFrom logs one event per variable an env-from secret gave: the
// child gets it (RESOLVED), or a variable set before wins
// (ENV_FROM_SHADOWED). An env-from secret that is missing and optional is
// logged as such.
func (o *Outcome) reportEnvFrom(log *slog.Logger) {
	for _, r := range o.Results {
		if r.EnvFrom && r.Err == nil && r.Removed {
			log.Warn("optional secret missing: it gives no variable", "code", CodeOptionalMissing, "var", r.Var, "item", r.Part,
				"scheme", r.Ref.Scheme, "path", r.Ref.Path())
		}
	}
	for _, e := range o.EnvFrom {
		attrs := []any{"var", e.Name, "scheme", e.Ref.Scheme, "path", e.Ref.Path(), "from", settings.ByFlag("env-from").VarName(), "item", e.Item}
		if e.ShadowedBy != "" {
			log.Info("a variable of an env-from secret is set already: the child keeps the value set first",
				append([]any{"code", CodeEnvFromShadowed, "kept", e.ShadowedBy}, attrs...)...)
			continue
		}
		log.Info("resolved", append([]any{"code", CodeResolved}, attrs...)...)
	}
}

// notStarting logs the one event that says the start was refused, with
// the codes of what failed, and returns f. A signal the run received is
// f's too: the event's exit is the one the process exits with (143 after
// SIGTERM, not CANCELED's 130).
func (o *Outcome) notStarting(log *slog.Logger, command string, f *failure.Failure) error {
	if f.Signal == 0 && o.received != nil {
		f.Signal = o.received()
	}
	names := make([]string, 0, len(f.Codes))
	for _, c := range f.Codes {
		names = append(names, c.Name())
	}
	slices.Sort(names)
	names = slices.Compact(names)
	attrs := []any{"code", CodeNotStarting, "failed_codes", names, "command", command}
	if o.Guard != nil {
		attrs = append(attrs, "n8n_role", string(o.Guard.Role))
		if o.Guard.Fingerprint != "" {
			attrs = append(attrs, "n8n_key_fingerprint", o.Guard.Fingerprint)
		}
	}
	attrs = append(attrs, "exit", f.Exit(), "duration_ms", ms(time.Since(o.started)))
	log.Error("not starting", attrs...)
	return f
}

// stopped reports a start stopped by sig after resolution, and returns the
// failure (128+sig).
func (o *Outcome) stopped(log *slog.Logger, command string, sig syscall.Signal) error {
	return o.notStarting(log, command, &failure.Failure{Codes: []logcode.Code{inject.CodeCanceled}, Signal: sig, Logged: true})
}

// LogFailure logs one failure of the resolution with its code and a hint.
func (o *Outcome) LogFailure(log *slog.Logger, err error) {
	code := inject.CodeOf(err)
	attrs := []any{"code", code}
	var ve *inject.VarError
	msg, scheme := err.Error(), ""
	if errors.As(err, &ve) {
		attrs = append(attrs, "var", ve.Var)
		msg = ve.Err.Error()
		for _, r := range o.Results {
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
	if h := HintOf(o.opts.Stores, err, scheme); h != "" {
		attrs = append(attrs, "hint", h)
	}
	log.Error("secret not resolved", attrs...)
}

// HintOf returns what to do about err, for a reference of scheme ("" when
// not known): its own hint, else its code's for that store, else its
// code's.
func HintOf(stores inject.Stores, err error, scheme string) string {
	if h := inject.HintOf(err); h != "" {
		return h
	}
	code := inject.CodeOf(err)
	if h := stores.Hint(scheme, code); h != "" {
		return h
	}
	if code == inject.CodeBadReference {
		return badReferenceHint(stores)
	}
	return hints[code]
}

var hints = map[logcode.Code]string{
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

// Summary returns the attributes of the event logged just before exec.
func (o *Outcome) Summary(command string) []any {
	removed := 0
	for _, r := range o.Results {
		if r.Removed {
			removed++
		}
	}
	providers := o.Schemes
	if providers == nil {
		providers = []string{} // [] in JSON, as in text: never null
	}
	attrs := []any{"code", CodeExec, "command", command, "variables", len(o.Results) - removed, "fetches", o.Fetches,
		"providers", providers, "optional_missing", removed, "env_removed", o.Removed,
		"duration_ms", ms(time.Since(o.started)), "version", Version, "pid", os.Getpid()}
	if o.Guard != nil {
		attrs = append(attrs, "n8n_role", string(o.Guard.Role))
		if o.Guard.Fingerprint != "" {
			attrs = append(attrs, "n8n_key_fingerprint", o.Guard.Fingerprint)
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
