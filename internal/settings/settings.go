// Package settings is the injector's own settings: one table (field, flag,
// variable, default, kind, allowed values, help) that the flags, the
// variables, the validation, the help text and the README's tables come
// from; their loading from the environment (and the --env-file files,
// under it) with the flags given over them; the usage error (exit 64) and
// the logger the settings ask for.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/supervise"
)

// Prefix starts every one of the injector's own variables. They are
// never scanned for references and never reach the child unless passed
// through.
const Prefix = "N8N_SECRETS_"

// Settings are the injector's own settings: each is an environment variable
// N8N_SECRETS_<NAME> and a flag of the same meaning; a flag wins. The
// table Table describes each one; nothing else does.
type Settings struct {
	Dir                  string
	EnvFile              string
	EnvFrom              string
	Timeout              time.Duration
	Concurrency          int
	LogFormat            string
	LogLevel             string
	Passthrough          string
	Skip                 string
	FileVars             string
	N8N                  string
	N8NSettings          string
	ExpectKeyFingerprint string
	AllowHTTP            bool
	VerifyKey            string
	Mode                 string
	Refresh              time.Duration
	OnChange             string
	Splay                time.Duration
	KillSignal           string
	KillTimeout          time.Duration
	Mask                 bool
	MetricsAddr          string

	// source names where each setting that was given came from, by flag
	// name: its variable, or its flag and position. A setting absent from
	// it has its default.
	source map[string]string
}

// Setting describes one setting: the one table that the flags, the
// variables, the validation, the help text and the README's tables come
// from.
type Setting struct {
	Flag    string // the flag's name; the variable is N8N_SECRETS_ and it in capitals, '-' as '_'
	Arg     string // the value's placeholder in the help ("" for a boolean)
	Def     string // the default, as the variable would hold it ("" none)
	Allowed []string
	Group   string // "" for every mode, "supervise" for supervise mode's
	Help    string // one line; `code` for the README, shown without backticks in the help
	// field returns a pointer to the setting's field: *string,
	// *time.Duration, *int or *bool, which gives its kind.
	field func(s *Settings) any
	// check, if set, validates the parsed value; it returns the problem,
	// never repeating the value.
	check func(s *Settings) string
}

// Groups of settings.
const (
	GroupSupervise = "supervise"
)

// Values of Settings.Mode.
const (
	ModeExec      = "exec"
	ModeSupervise = "supervise"
)

// Table is every setting, in the order of the help text.
var Table = []Setting{
	{Flag: "dir", Arg: "DIR", Def: "/run/secrets", field: func(s *Settings) any { return &s.Dir },
		Help:  "the secrets dir: `file:<name>`, `vault_token`, `vault_role_id`, `vault_secret_id`",
		check: func(s *Settings) string { return when(s.Dir == "", "must not be empty") }},
	{Flag: "env-file", Arg: "FILES", field: func(s *Settings) any { return &s.EnvFile },
		Help: "comma-separated `.env` files (Compose's syntax) read under the process environment: a variable set in both keeps the environment's value"},
	{Flag: "env-from", Arg: "REFS", field: func(s *Settings) any { return &s.EnvFrom },
		Help: "comma-separated references to JSON objects (`vault://secret/n8n/env`): each key becomes a variable, unless the environment sets it (the first reference wins over later ones)"},
	{Flag: "timeout", Arg: "DURATION", Def: "30s", field: func(s *Settings) any { return &s.Timeout },
		Help:  "total deadline for every fetch, retries included",
		check: func(s *Settings) string { return when(s.Timeout <= 0, "must be a positive duration (like 30s)") }},
	{Flag: "concurrency", Arg: "N", Def: "64", field: func(s *Settings) any { return &s.Concurrency },
		Help: "fetches in flight at once",
		check: func(s *Settings) string {
			return when(s.Concurrency < 1 || s.Concurrency > 1024, "must be between 1 and 1024")
		}},
	{Flag: "log-format", Arg: "FORMAT", Def: "auto", Allowed: []string{"auto", "json", "text"}, field: func(s *Settings) any { return &s.LogFormat },
		Help: "logs on stderr: `json`, `text`, or `auto`: text when stderr is a terminal, JSON otherwise (a container)"},
	{Flag: "log-level", Arg: "LEVEL", Def: "info", Allowed: []string{"debug", "info", "warn", "error"}, field: func(s *Settings) any { return &s.LogLevel },
		Help: "the least level logged"},
	{Flag: "passthrough", Arg: "LIST", field: func(s *Settings) any { return &s.Passthrough },
		Help:  "comma-separated names or globs of provider variables to keep in the child (`VAULT_ADDR,AWS_REGION`)",
		check: func(s *Settings) string { return checkPatterns(s.Passthrough) }},
	{Flag: "skip", Arg: "LIST", field: func(s *Settings) any { return &s.Skip },
		Help:  "names or globs never treated as references, `${…}` or `NAME_FILE` (either name of a `NAME_FILE` pair)",
		check: func(s *Settings) string { return checkPatterns(s.Skip) }},
	{Flag: "file-vars", Arg: "LIST", field: func(s *Settings) any { return &s.FileVars },
		Help:  "`NAME_FILE` variables (names or globs, either name) resolved wherever their file is; others only under the secrets mounts",
		check: func(s *Settings) string { return checkPatterns(s.FileVars) }},
	{Flag: "n8n", Arg: "MODE", Def: "auto", Allowed: []string{"auto", "on", "off"}, field: func(s *Settings) any { return &s.N8N },
		Help: "the n8n guard"},
	{Flag: "n8n-settings", Arg: "MODE", Def: "check", Allowed: []string{"check", "sync"}, field: func(s *Settings) any { return &s.N8NSettings },
		Help: "n8n's settings file holding another key: `check` refuses, `sync` rewrites it as the last step before exec, only when nothing else refuses the start and the check before start proved the key against n8n's database (else it refuses, 78)"},
	{Flag: "expect-key-fingerprint", Arg: "FP", field: func(s *Settings) any { return &s.ExpectKeyFingerprint },
		Help: "refuse to start unless the key has this fingerprint (`n8n-secrets fingerprint` prints it)",
		check: func(s *Settings) string {
			if err := (n8n.Options{ExpectFingerprint: s.ExpectKeyFingerprint}).Validate(); err != nil {
				return "not a fingerprint: 16 hexadecimal digits, as n8n-secrets fingerprint prints"
			}
			return ""
		}},
	{Flag: "allow-http", Def: "false", field: func(s *Settings) any { return &s.AllowHTTP },
		Help: "allow plain `http://` to a secret store that is not on loopback"},
	{Flag: "verify-key", Arg: "MODE", Def: "auto", Allowed: []string{"auto", "on", "off"}, field: func(s *Settings) any { return &s.VerifyKey },
		Help: "before n8n starts, decrypt a sample of n8n's database with the key: `auto` (an unreachable database is a warning), `on` (it is exit 69), `off`; a mismatch is exit 78"},
	{Flag: "mode", Arg: "MODE", Def: ModeExec, Allowed: []string{ModeExec, ModeSupervise}, field: func(s *Settings) any { return &s.Mode },
		Help: "`exec` replaces this process with the command; `supervise` stays its parent: signals, reaping, leases, restarts on new versions"},
	{Flag: "refresh", Arg: "DURATION", Def: "5m", Group: GroupSupervise, field: func(s *Settings) any { return &s.Refresh },
		Help: "how often to ask the stores for new versions (±10 %); `0` never",
		check: func(s *Settings) string {
			return when(s.Refresh < 0 || (s.Refresh > 0 && s.Refresh < 100*time.Millisecond), "must be 0 (never) or at least 100ms")
		}},
	{Flag: "on-change", Arg: "POLICY", Def: "restart", Group: GroupSupervise, field: func(s *Settings) any { return &s.OnChange },
		Help: "what new values do: `restart`, `signal:NAME`, `exit` (exit code 75, for the orchestrator to restart), `none`",
		check: func(s *Settings) string {
			if _, err := supervise.ParsePolicy(s.OnChange); err != nil {
				return "must be restart, signal:NAME (HUP, INT, QUIT, TERM, USR1, USR2, WINCH, ALRM), exit or none"
			}
			return ""
		}},
	{Flag: "splay", Arg: "DURATION", Def: "60s", Group: GroupSupervise, field: func(s *Settings) any { return &s.Splay },
		Help:  "longest random delay before new values are applied",
		check: func(s *Settings) string { return when(s.Splay < 0, "must not be negative") }},
	{Flag: "kill-signal", Arg: "SIGNAL", Def: "TERM", Group: GroupSupervise, field: func(s *Settings) any { return &s.KillSignal },
		Help: "the signal that stops the command for a restart or an exit: `TERM`, `INT`, `QUIT`, `HUP`, `USR1` or `USR2` (envconsul's `-kill-signal`)",
		check: func(s *Settings) string {
			if _, err := supervise.ParseStopSignal(s.KillSignal); err != nil {
				return "must be TERM, INT, QUIT, HUP, USR1 or USR2"
			}
			return ""
		}},
	{Flag: "kill-timeout", Arg: "DURATION", Group: GroupSupervise, field: func(s *Settings) any { return &s.KillTimeout },
		Help:  "how long the command has to exit after the kill signal, before KILL; default: n8n's own `N8N_GRACEFUL_SHUTDOWN_TIMEOUT` (seconds) when it is set, else 30s, n8n's default for it",
		check: func(s *Settings) string { return when(s.KillTimeout < 0, "must not be negative") }},
	{Flag: "mask", Def: "false", Group: GroupSupervise, field: func(s *Settings) any { return &s.Mask },
		Help: "pass the command's stdout and stderr through n8n-secrets and replace every injected value of 6 bytes or more with `<concealed>` (what it cannot catch: the README's Supervise mode)"},
	{Flag: "metrics-addr", Arg: "ADDR", Group: GroupSupervise, field: func(s *Settings) any { return &s.MetricsAddr },
		Help: "serve Prometheus metrics at `http://ADDR/metrics` (`[HOST]:PORT`; no host: loopback, `0.0.0.0:9464` for every interface); off when empty",
		check: func(s *Settings) string {
			if s.MetricsAddr == "" {
				return ""
			}
			if _, err := metrics.ParseAddr(s.MetricsAddr); err != nil {
				return err.Error()
			}
			return ""
		}},
}

// when returns msg when cond holds, else "".
func when(cond bool, msg string) string {
	if cond {
		return msg
	}
	return ""
}

// checkPatterns validates a comma-separated list of names or globs.
func checkPatterns(list string) string {
	m := inject.ParseMatcher(list)
	if bad, ok := m.Validate(); !ok {
		for i, p := range m {
			if p == bad {
				return fmt.Sprintf("pattern %d is malformed: patterns are names or globs like VAULT_*", i+1)
			}
		}
	}
	return ""
}

// VarName returns a setting's variable: N8N_SECRETS_ and its flag in
// capitals.
func (d *Setting) VarName() string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(d.Flag, "-", "_"))
}

// ByFlag returns the setting of a flag, or nil.
func ByFlag(flag string) *Setting {
	for i := range Table {
		if Table[i].Flag == flag {
			return &Table[i]
		}
	}
	return nil
}

// Name returns how a message names the setting of flag: the flag and its
// position when a flag set it, else its variable.
func (s *Settings) Name(flag string) string {
	if src := s.source[flag]; src != "" {
		return src
	}
	return ByFlag(flag).VarName()
}

// UsageError is a usage or settings error (exit 64), with an optional hint.
type UsageError struct {
	msg, hint string
}

func (e *UsageError) Error() string { return e.msg }

// Hint returns what to do about it, or "".
func (e *UsageError) Hint() string { return e.hint }

// LogCode returns USAGE, whose exit is 64.
func (e *UsageError) LogCode() logcode.Code { return inject.CodeUsage }

// IsUsage reports whether err is a usage or settings error.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

func Usagef(hint, format string, args ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// set parses value into the setting's field of s, and returns the problem,
// never repeating the value.
func (d *Setting) set(s *Settings, value string) string {
	switch p := d.field(s).(type) {
	case *string:
		if d.Allowed != nil && !contains(d.Allowed, value) {
			return "must be one of " + strings.Join(d.Allowed, ", ")
		}
		*p = value
	case *time.Duration:
		v, err := time.ParseDuration(value)
		if err != nil {
			if _, nerr := strconv.ParseFloat(strings.TrimSpace(value), 64); nerr == nil {
				return "needs a unit, like 30s, 5m or 1h: a number alone is not a duration"
			}
			return "not a duration (like 30s, 5m or 1h)"
		}
		*p = v
	case *int:
		v, err := strconv.Atoi(value)
		if err != nil {
			return "not a whole number"
		}
		*p = v
	case *bool:
		v, err := strconv.ParseBool(value)
		if err != nil {
			return "must be true or false"
		}
		*p = v
	default:
		panic("setting " + d.Flag + ": unknown field type")
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FlagValue is a settings flag given on the command line, applied once
// the variables are read.
type FlagValue struct {
	def   *Setting
	value string
	pos   int
}

// defaults returns the settings with every default.
func defaults() *Settings {
	s := &Settings{source: map[string]string{}}
	for i := range Table {
		d := &Table[i]
		if d.Def != "" {
			if msg := d.set(s, d.Def); msg != "" {
				panic("setting " + d.Flag + ": bad default")
			}
		}
	}
	return s
}

// load returns the settings the variables of env and then the
// flags given set. Errors name the variable, or the flag and its position,
// and the problem, never the value; the settings returned with an error
// carry at least a valid log format, so that the error is reported in it.
func load(env environ.Env, flags []FlagValue) (*Settings, error) {
	s := defaults()
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for i := range Table {
		d := &Table[i]
		v, ok := env.Lookup(d.VarName())
		if !ok {
			continue
		}
		if msg := d.set(s, v); msg != "" {
			fail(Usagef("", "%s: %s", d.VarName(), msg))
			continue
		}
		s.source[d.Flag] = d.VarName()
	}
	if err := settingTypo(env); err != nil {
		fail(err)
	}
	for _, f := range flags {
		where := fmt.Sprintf("argument %d (--%s)", f.pos, f.def.Flag)
		if msg := f.def.set(s, f.value); msg != "" {
			fail(Usagef("", "%s: %s", where, msg))
			continue
		}
		s.source[f.def.Flag] = where
	}
	if firstErr != nil && !contains([]string{"auto", "json", "text"}, s.LogFormat) {
		s.LogFormat = "auto"
	}
	return s, firstErr
}

// settingTypo returns a usage error for a variable of env that is not
// a setting but is one or two typos away from one
// (N8N_SECRETS_EXPECT_KEY_FINGERPRNT, N8N_SECRET_DIR): ignored, it would
// silently leave the setting at its default, and a fingerprint pin or
// N8N_SECRETS_VERIFY_KEY=on that is not there fails open. Only names that
// start like the prefix are looked at; the error names the variable and
// the setting, never the value.
func settingTypo(env environ.Env) error {
	var names []string
	for name := range env.Map() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if near := nearSetting(name); near != "" {
			return Usagef(typoHint(near), "%s: %s", name, notASetting)
		}
	}
	return nil
}

// notASetting is the problem of a variable one or two typos from a
// setting's.
const notASetting = "not a setting of n8n-secrets, and it would be ignored"

// typoHint is the hint for a variable one or two typos from near.
func typoHint(near string) string {
	return "did you mean " + near + "? (n8n-secrets help lists every setting)"
}

// nearSetting returns the setting's variable name is one or two typos
// away from, when name starts like the prefix and is no setting's; else
// "".
func nearSetting(name string) string {
	if !strings.HasPrefix(name, Prefix[:len(Prefix)-2]) {
		return ""
	}
	known := make([]string, len(Table))
	for i := range Table {
		if known[i] = Table[i].VarName(); known[i] == name {
			return ""
		}
	}
	return suggest.Nearest(name, 2, known...)
}

// VarProblem says what a start would refuse (exit 64) in one variable of
// a container's environment, taken as a setting of n8n-secrets: a name one
// or two typos from a setting's variable, or, when the value is known, a
// value the setting does not take. It names the problem, never the value;
// "" when a start takes it (or it is no setting's). The checks across
// settings (N8N_SECRETS_MASK outside supervise mode, …) are not made: they
// need the whole environment.
func VarProblem(name, value string, valueKnown bool) (problem, hint string) {
	if near := nearSetting(name); near != "" {
		return notASetting, typoHint(near)
	}
	for i := range Table {
		d := &Table[i]
		if d.VarName() != name || !valueKnown {
			continue
		}
		s := defaults()
		if msg := d.set(s, value); msg != "" {
			return msg, ""
		}
		if d.check != nil {
			return d.check(s), ""
		}
	}
	return "", ""
}

// Validate checks the values once flags and variables are merged: each
// setting's own check, in the table's order, then the checks that take
// several settings.
func (s *Settings) Validate() error {
	for i := range Table {
		d := &Table[i]
		if d.check == nil {
			continue
		}
		if msg := d.check(s); msg != "" {
			hint := ""
			if d.Flag == "expect-key-fingerprint" {
				hint = "print a node's fingerprint with: n8n-secrets fingerprint"
			}
			return Usagef(hint, "%s: %s", s.Name(d.Flag), msg)
		}
	}
	if s.Mask && s.Mode != ModeSupervise {
		return Usagef("masking needs a parent process between the command and its output: --mode supervise",
			"%s: works in supervise mode only (%s is %s)", s.Name("mask"), s.Name("mode"), s.Mode)
	}
	if s.MetricsAddr != "" && s.Mode != ModeSupervise {
		return Usagef("exec mode leaves no process behind to serve them: --mode supervise",
			"%s: works in supervise mode only (%s is %s)", s.Name("metrics-addr"), s.Name("mode"), s.Mode)
	}
	if err := (n8n.Options{Mode: s.N8N, SettingsMode: s.N8NSettings, ExpectFingerprint: s.ExpectKeyFingerprint}).Validate(); err != nil {
		return Usagef("print a node's fingerprint with: n8n-secrets fingerprint", "%v", err)
	}
	return nil
}

// Flags returns a flag for each setting, which records the value
// given in *into, for load.
func Flags(into *[]FlagValue) []*cmdline.Flag {
	flags := make([]*cmdline.Flag, 0, len(Table))
	for i := range Table {
		d := &Table[i]
		flags = append(flags, &cmdline.Flag{Name: d.Flag, Arg: d.Arg, Help: d.Help, Set: func(v string, pos int) error {
			*into = append(*into, FlagValue{def: d, value: v, pos: pos})
			return nil
		}})
	}
	return flags
}

// Logger returns the structured logger the settings ask for, on stderr.
func (s *Settings) Logger() *slog.Logger { return NewLogger(Format(s), s.LogLevel) }

// Format returns the log format s asks for: json or text as set, else
// (auto, or s nil) text when stderr is a terminal and JSON otherwise.
func Format(s *Settings) string {
	if s != nil && (s.LogFormat == "text" || s.LogFormat == "json") {
		return s.LogFormat
	}
	if stderrIsTerminal() {
		return "text"
	}
	return "json"
}

// stderrIsTerminal reports whether standard error is a terminal.
func stderrIsTerminal() bool { return cmdline.IsTerminal(os.Stderr) }

// NewLogger returns a logger in format (json or text) at level, on stderr.
// Every event it writes carries "app":"n8n-secrets".
func NewLogger(format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, opts)
	if format == "text" {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	return slog.New(h).With("app", "n8n-secrets")
}

// FromEnv returns the settings env's variables and then the flags given
// set, without reading the --env-file files: for a command that takes no
// settings flags (only the log format and the deadline matter), and to
// report a mistake found before the settings were read in the log format
// asked for.
func FromEnv(env environ.Env, given []FlagValue) (*Settings, error) { return load(env, given) }

// Load reads the --env-file files (the flag's, else
// N8N_SECRETS_ENV_FILE's) under env, then the settings from the result
// with the flags given over them. It returns the settings and the
// environment the command works with: env, then the files' variables that
// env does not set. The settings are not validated yet (Validate).
func Load(env environ.Env, given []FlagValue) (*Settings, environ.Env, error) {
	s, err := load(env, given)
	if err != nil || s.EnvFile == "" {
		return s, env, err
	}
	merged, err := readEnvFiles(s, env)
	if err != nil {
		return s, env, err
	}
	s, err = load(merged, given)
	return s, merged, err
}

// Source returns where the setting of flag was given: its variable, or
// its flag and position; "" when it has its default.
func (s *Settings) Source(flag string) string { return s.source[flag] }
