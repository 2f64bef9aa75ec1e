package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// settingsPrefix starts every one of the injector's own variables. They are
// never scanned for references and never reach the child unless passed
// through.
const settingsPrefix = "N8N_SECRETS_"

// settings are the injector's own settings: each is an environment variable
// N8N_SECRETS_<NAME> and a flag of the same meaning; a flag wins.
type settings struct {
	Dir                  string        `env:"DIR" envDefault:"/run/secrets"`
	Timeout              time.Duration `env:"TIMEOUT" envDefault:"30s"`
	Concurrency          int           `env:"CONCURRENCY" envDefault:"64"`
	LogFormat            string        `env:"LOG_FORMAT" envDefault:"json"`
	LogLevel             string        `env:"LOG_LEVEL" envDefault:"info"`
	Passthrough          string        `env:"PASSTHROUGH"`
	Skip                 string        `env:"SKIP"`
	FileVars             string        `env:"FILE_VARS"`
	N8N                  string        `env:"N8N" envDefault:"auto"`
	N8NSettings          string        `env:"N8N_SETTINGS" envDefault:"check"`
	ExpectKeyFingerprint string        `env:"EXPECT_KEY_FINGERPRINT"`
	AllowHTTP            bool          `env:"ALLOW_HTTP"`
	VerifyKey            string        `env:"VERIFY_KEY" envDefault:"auto"`
	Mode                 string        `env:"MODE" envDefault:"exec"`
	Refresh              time.Duration `env:"REFRESH" envDefault:"5m"`
	OnChange             string        `env:"ON_CHANGE" envDefault:"restart"`
	Splay                time.Duration `env:"SPLAY" envDefault:"60s"`

	// keepProviders makes prepare leave the providers open (supervise
	// mode renews and watches with them); not a setting.
	keepProviders bool
}

// settingVars maps each field to its variable and flag, for messages and
// for the help text.
var settingVars = []struct{ field, flag, help string }{
	{"Dir", "dir", "directory of mounted secrets: file:<name>, vault_token, vault_role_id, … (default /run/secrets)"},
	{"Timeout", "timeout", "total deadline for resolving every secret, retries included (default 30s)"},
	{"Concurrency", "concurrency", "fetches in flight at once (default 64)"},
	{"LogFormat", "log-format", "json or text (default json)"},
	{"LogLevel", "log-level", "debug, info, warn or error (default info)"},
	{"Passthrough", "passthrough", "comma-separated variables (globs) to keep in the child, e.g. VAULT_ADDR,AWS_REGION"},
	{"Skip", "skip", "comma-separated variables (globs) never treated as references or NAME_FILE"},
	{"FileVars", "file-vars", "comma-separated NAME_FILE variables (globs) resolved wherever their file is; others only under the secrets dir, /run/secrets or /var/run/secrets"},
	{"N8N", "n8n", "the n8n guard: auto, on or off (default auto)"},
	{"N8NSettings", "n8n-settings", "n8n settings file with another key: check (refuse) or sync (rewrite it) (default check)"},
	{"ExpectKeyFingerprint", "expect-key-fingerprint", "refuse to start unless N8N_ENCRYPTION_KEY has this fingerprint"},
	{"AllowHTTP", "allow-http", "allow plain http:// to a secret store that is not on loopback"},
	{"VerifyKey", "verify-key", "before n8n starts, check the key against a sample of n8n's database: auto, on or off (default auto)"},
	{"Mode", "mode", "exec (replace this process with the command) or supervise (stay its parent) (default exec)"},
	{"Refresh", "refresh", "supervise: how often to look for new versions, 0 never (default 5m)"},
	{"OnChange", "on-change", "supervise: what new values do: restart, signal:NAME, exit or none (default restart)"},
	{"Splay", "splay", "supervise: longest random delay before applying new values (default 60s)"},
}

func varName(field string) string {
	for _, s := range settingVars {
		if s.field == field {
			return settingsPrefix + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
		}
	}
	return settingsPrefix + strings.ToUpper(field)
}

// usageError is a usage or settings error (exit 64), with an optional hint.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// loadSettings reads the N8N_SECRETS_* variables of environ. Errors name the
// variable and the problem; the settings returned with an error carry at
// least the log format, so that the error is reported in it.
func loadSettings(environ map[string]string) (*settings, error) {
	s := &settings{}
	err := env.ParseWithOptions(s, env.Options{Prefix: settingsPrefix, Environment: environ})
	if err == nil {
		return s, nil
	}
	fallback := &settings{LogFormat: environ[settingsPrefix+"LOG_FORMAT"], LogLevel: "info"}
	var agg env.AggregateError
	if errors.As(err, &agg) {
		for _, e := range agg.Errors {
			var pe env.ParseError
			if errors.As(e, &pe) {
				return fallback, usagef("", "%s: not a valid %s", varName(pe.Name), kindOf(pe.Name))
			}
		}
	}
	return fallback, usagef("", "settings: %v", err)
}

func kindOf(field string) string {
	switch field {
	case "Timeout", "Refresh", "Splay":
		return "duration (like 30s or 2m)"
	case "Concurrency":
		return "whole number"
	case "AllowHTTP":
		return "boolean (true or false)"
	}
	return "value"
}

// register adds the settings' flags to fs, with the current values as
// defaults, so that a flag given overrides the variable.
func (s *settings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.Dir, "dir", s.Dir, "")
	fs.DurationVar(&s.Timeout, "timeout", s.Timeout, "")
	fs.IntVar(&s.Concurrency, "concurrency", s.Concurrency, "")
	fs.StringVar(&s.LogFormat, "log-format", s.LogFormat, "")
	fs.StringVar(&s.LogLevel, "log-level", s.LogLevel, "")
	fs.StringVar(&s.Passthrough, "passthrough", s.Passthrough, "")
	fs.StringVar(&s.Skip, "skip", s.Skip, "")
	fs.StringVar(&s.FileVars, "file-vars", s.FileVars, "")
	fs.StringVar(&s.N8N, "n8n", s.N8N, "")
	fs.StringVar(&s.N8NSettings, "n8n-settings", s.N8NSettings, "")
	fs.StringVar(&s.ExpectKeyFingerprint, "expect-key-fingerprint", s.ExpectKeyFingerprint, "")
	fs.BoolVar(&s.AllowHTTP, "allow-http", s.AllowHTTP, "")
	fs.StringVar(&s.VerifyKey, "verify-key", s.VerifyKey, "")
	fs.StringVar(&s.Mode, "mode", s.Mode, "")
	fs.DurationVar(&s.Refresh, "refresh", s.Refresh, "")
	fs.StringVar(&s.OnChange, "on-change", s.OnChange, "")
	fs.DurationVar(&s.Splay, "splay", s.Splay, "")
}

// validate checks the values once flags and variables are merged.
func (s *settings) validate() error {
	oneOf := func(field, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return usagef("", "%s: must be one of %s", varName(field), strings.Join(allowed, ", "))
	}
	switch {
	case s.Dir == "":
		return usagef("", "%s: must not be empty", varName("Dir"))
	case s.Timeout <= 0:
		return usagef("", "%s: must be a positive duration (like 30s)", varName("Timeout"))
	case s.Concurrency < 1 || s.Concurrency > 1024:
		return usagef("", "%s: must be between 1 and 1024", varName("Concurrency"))
	}
	for _, c := range []struct{ field, v string }{{"Passthrough", s.Passthrough}, {"Skip", s.Skip}, {"FileVars", s.FileVars}} {
		if bad, ok := inject.ParseMatcher(c.v).Validate(); !ok {
			return usagef("patterns are names or globs like VAULT_*", "%s: malformed pattern %q", varName(c.field), bad)
		}
	}
	if err := oneOf("LogFormat", s.LogFormat, "json", "text"); err != nil {
		return err
	}
	if err := oneOf("LogLevel", s.LogLevel, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	if err := oneOf("N8N", s.N8N, "auto", "on", "off"); err != nil {
		return err
	}
	if err := oneOf("N8NSettings", s.N8NSettings, "check", "sync"); err != nil {
		return err
	}
	if err := oneOf("VerifyKey", s.VerifyKey, "auto", "on", "off"); err != nil {
		return err
	}
	if err := s.validateSupervise(); err != nil {
		return err
	}
	if err := (n8n.Options{Mode: s.N8N, SettingsMode: s.N8NSettings, ExpectFingerprint: s.ExpectKeyFingerprint}).Validate(); err != nil {
		return usagef("print a node's fingerprint with: n8n-secrets fingerprint", "%v", err)
	}
	return nil
}

// logger returns the structured logger the settings ask for, on stderr.
func (s *settings) logger() *slog.Logger { return newLogger(logFormat(s), s.LogLevel) }

// logFormat returns s's log format when it is a valid one, else json.
func logFormat(s *settings) string {
	if s != nil && s.LogFormat == "text" {
		return "text"
	}
	return "json"
}

// newLogger returns a logger in format (json or text) at level, on stderr.
// Every event it writes carries "app":"n8n-secrets".
func newLogger(format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, opts)
	if format == "text" {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	return slog.New(h).With("app", "n8n-secrets")
}
