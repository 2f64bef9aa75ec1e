package main

import (
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/supervise"
)

// settingsPrefix starts every one of the injector's own variables. They are
// never scanned for references and never reach the child unless passed
// through.
const settingsPrefix = "N8N_SECRETS_"

// settings are the injector's own settings: each is an environment variable
// N8N_SECRETS_<NAME> and a flag of the same meaning; a flag wins. The
// table settingsTable describes each one; nothing else does.
type settings struct {
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
	// keepProviders makes prepare leave the providers open (supervise
	// mode renews and watches with them); not a setting.
	keepProviders bool
}

// setting describes one setting: the one table that the flags, the
// variables, the validation, the help text and the README's tables come
// from.
type setting struct {
	flag    string // the flag's name; the variable is N8N_SECRETS_ and it in capitals, '-' as '_'
	arg     string // the value's placeholder in the help ("" for a boolean)
	def     string // the default, as the variable would hold it ("" none)
	allowed []string
	group   string // "" for every mode, "supervise" for supervise mode's
	help    string // one line; `code` for the README, shown without backticks in the help
	// field returns a pointer to the setting's field: *string,
	// *time.Duration, *int or *bool, which gives its kind.
	field func(s *settings) any
	// check, if set, validates the parsed value; it returns the problem,
	// never repeating the value.
	check func(s *settings) string
}

// Groups of settings.
const (
	groupSupervise = "supervise"
)

// settingsTable is every setting, in the order of the help text.
var settingsTable = []setting{
	{flag: "dir", arg: "DIR", def: "/run/secrets", field: func(s *settings) any { return &s.Dir },
		help:  "the secrets dir: `file:<name>`, `vault_token`, `vault_role_id`, `vault_secret_id`",
		check: func(s *settings) string { return when(s.Dir == "", "must not be empty") }},
	{flag: "env-file", arg: "FILES", field: func(s *settings) any { return &s.EnvFile },
		help: "comma-separated `.env` files (Compose's syntax) read under the process environment: a variable set in both keeps the environment's value"},
	{flag: "env-from", arg: "REFS", field: func(s *settings) any { return &s.EnvFrom },
		help: "comma-separated references to JSON objects (`vault://secret/n8n/env`): each key becomes a variable, unless the environment sets it (the first reference wins over later ones)"},
	{flag: "timeout", arg: "DURATION", def: "30s", field: func(s *settings) any { return &s.Timeout },
		help:  "total deadline for every fetch, retries included",
		check: func(s *settings) string { return when(s.Timeout <= 0, "must be a positive duration (like 30s)") }},
	{flag: "concurrency", arg: "N", def: "64", field: func(s *settings) any { return &s.Concurrency },
		help: "fetches in flight at once",
		check: func(s *settings) string {
			return when(s.Concurrency < 1 || s.Concurrency > 1024, "must be between 1 and 1024")
		}},
	{flag: "log-format", arg: "FORMAT", def: "auto", allowed: []string{"auto", "json", "text"}, field: func(s *settings) any { return &s.LogFormat },
		help: "logs on stderr: `json`, `text`, or `auto`: text when stderr is a terminal, JSON otherwise (a container)"},
	{flag: "log-level", arg: "LEVEL", def: "info", allowed: []string{"debug", "info", "warn", "error"}, field: func(s *settings) any { return &s.LogLevel },
		help: "the least level logged"},
	{flag: "passthrough", arg: "LIST", field: func(s *settings) any { return &s.Passthrough },
		help:  "comma-separated names or globs of provider variables to keep in the child (`VAULT_ADDR,AWS_REGION`)",
		check: func(s *settings) string { return checkPatterns(s.Passthrough) }},
	{flag: "skip", arg: "LIST", field: func(s *settings) any { return &s.Skip },
		help:  "names or globs never treated as references, `${…}` or `NAME_FILE` (either name of a `NAME_FILE` pair)",
		check: func(s *settings) string { return checkPatterns(s.Skip) }},
	{flag: "file-vars", arg: "LIST", field: func(s *settings) any { return &s.FileVars },
		help:  "`NAME_FILE` variables (names or globs, either name) resolved wherever their file is; others only under the secrets mounts",
		check: func(s *settings) string { return checkPatterns(s.FileVars) }},
	{flag: "n8n", arg: "MODE", def: "auto", allowed: []string{"auto", "on", "off"}, field: func(s *settings) any { return &s.N8N },
		help: "the n8n guard"},
	{flag: "n8n-settings", arg: "MODE", def: "check", allowed: []string{"check", "sync"}, field: func(s *settings) any { return &s.N8NSettings },
		help: "n8n's settings file holding another key: `check` refuses, `sync` rewrites it as the last step before exec, only when nothing else refuses the start and the check before start proved the key against n8n's database (else it refuses, 78)"},
	{flag: "expect-key-fingerprint", arg: "FP", field: func(s *settings) any { return &s.ExpectKeyFingerprint },
		help: "refuse to start unless the key has this fingerprint (`n8n-secrets fingerprint` prints it)",
		check: func(s *settings) string {
			if err := (n8n.Options{ExpectFingerprint: s.ExpectKeyFingerprint}).Validate(); err != nil {
				return "not a fingerprint: 16 hexadecimal digits, as n8n-secrets fingerprint prints"
			}
			return ""
		}},
	{flag: "allow-http", def: "false", field: func(s *settings) any { return &s.AllowHTTP },
		help: "allow plain `http://` to a secret store that is not on loopback"},
	{flag: "verify-key", arg: "MODE", def: "auto", allowed: []string{"auto", "on", "off"}, field: func(s *settings) any { return &s.VerifyKey },
		help: "before n8n starts, decrypt a sample of n8n's database with the key: `auto` (an unreachable database is a warning), `on` (it is exit 69), `off`; a mismatch is exit 78"},
	{flag: "mode", arg: "MODE", def: modeExec, allowed: []string{modeExec, modeSupervise}, field: func(s *settings) any { return &s.Mode },
		help: "`exec` replaces this process with the command; `supervise` stays its parent: signals, reaping, leases, restarts on new versions"},
	{flag: "refresh", arg: "DURATION", def: "5m", group: groupSupervise, field: func(s *settings) any { return &s.Refresh },
		help: "how often to ask the stores for new versions (±10 %); `0` never",
		check: func(s *settings) string {
			return when(s.Refresh < 0 || (s.Refresh > 0 && s.Refresh < 100*time.Millisecond), "must be 0 (never) or at least 100ms")
		}},
	{flag: "on-change", arg: "POLICY", def: "restart", group: groupSupervise, field: func(s *settings) any { return &s.OnChange },
		help: "what new values do: `restart`, `signal:NAME`, `exit` (exit code 75, for the orchestrator to restart), `none`",
		check: func(s *settings) string {
			if _, err := supervise.ParsePolicy(s.OnChange); err != nil {
				return "must be restart, signal:NAME (HUP, INT, QUIT, TERM, USR1, USR2, WINCH, ALRM), exit or none"
			}
			return ""
		}},
	{flag: "splay", arg: "DURATION", def: "60s", group: groupSupervise, field: func(s *settings) any { return &s.Splay },
		help:  "longest random delay before new values are applied",
		check: func(s *settings) string { return when(s.Splay < 0, "must not be negative") }},
	{flag: "kill-signal", arg: "SIGNAL", def: "TERM", group: groupSupervise, field: func(s *settings) any { return &s.KillSignal },
		help: "the signal that stops the command for a restart or an exit: `TERM`, `INT`, `QUIT`, `HUP`, `USR1` or `USR2` (envconsul's `-kill-signal`)",
		check: func(s *settings) string {
			if _, err := supervise.ParseStopSignal(s.KillSignal); err != nil {
				return "must be TERM, INT, QUIT, HUP, USR1 or USR2"
			}
			return ""
		}},
	{flag: "kill-timeout", arg: "DURATION", group: groupSupervise, field: func(s *settings) any { return &s.KillTimeout },
		help:  "how long the command has to exit after the kill signal, before KILL; default: n8n's own `N8N_GRACEFUL_SHUTDOWN_TIMEOUT` (seconds) when it is set, else 30s, n8n's default for it",
		check: func(s *settings) string { return when(s.KillTimeout < 0, "must not be negative") }},
	{flag: "mask", def: "false", group: groupSupervise, field: func(s *settings) any { return &s.Mask },
		help: "pass the command's stdout and stderr through n8n-secrets and replace every injected value of 6 bytes or more with `<concealed>` (what it cannot catch: the README's Supervise mode)"},
	{flag: "metrics-addr", arg: "ADDR", group: groupSupervise, field: func(s *settings) any { return &s.MetricsAddr },
		help: "serve Prometheus metrics at `http://ADDR/metrics` (`[HOST]:PORT`; no host: loopback, `0.0.0.0:9464` for every interface); off when empty",
		check: func(s *settings) string {
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

// varOf returns a setting's variable: N8N_SECRETS_ and its flag in
// capitals.
func (d *setting) varName() string {
	return settingsPrefix + strings.ToUpper(strings.ReplaceAll(d.flag, "-", "_"))
}

// settingByFlag returns the setting of a flag, or nil.
func settingByFlag(flag string) *setting {
	for i := range settingsTable {
		if settingsTable[i].flag == flag {
			return &settingsTable[i]
		}
	}
	return nil
}

// name returns how a message names the setting of flag: the flag and its
// position when a flag set it, else its variable.
func (s *settings) name(flag string) string {
	if src := s.source[flag]; src != "" {
		return src
	}
	return settingByFlag(flag).varName()
}

// usageError is a usage or settings error (exit 64), with an optional hint.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// set parses value into the setting's field of s, and returns the problem,
// never repeating the value.
func (d *setting) set(s *settings, value string) string {
	switch p := d.field(s).(type) {
	case *string:
		if d.allowed != nil && !contains(d.allowed, value) {
			return "must be one of " + strings.Join(d.allowed, ", ")
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
		panic("setting " + d.flag + ": unknown field type")
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

// flagValue is a settings flag given on the command line, applied once
// the variables are read.
type flagValue struct {
	def   *setting
	value string
	pos   int
}

// defaults returns the settings with every default.
func defaults() *settings {
	s := &settings{source: map[string]string{}}
	for i := range settingsTable {
		d := &settingsTable[i]
		if d.def != "" {
			if msg := d.set(s, d.def); msg != "" {
				panic("setting " + d.flag + ": bad default")
			}
		}
	}
	return s
}

// loadSettings returns the settings the variables of environ and then the
// flags given set. Errors name the variable, or the flag and its position,
// and the problem, never the value; the settings returned with an error
// carry at least a valid log format, so that the error is reported in it.
func loadSettings(environ map[string]string, flags []flagValue) (*settings, error) {
	s := defaults()
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for i := range settingsTable {
		d := &settingsTable[i]
		v, ok := environ[d.varName()]
		if !ok {
			continue
		}
		if msg := d.set(s, v); msg != "" {
			fail(usagef("", "%s: %s", d.varName(), msg))
			continue
		}
		s.source[d.flag] = d.varName()
	}
	if err := settingTypo(environ); err != nil {
		fail(err)
	}
	for _, f := range flags {
		where := fmt.Sprintf("argument %d (--%s)", f.pos, f.def.flag)
		if msg := f.def.set(s, f.value); msg != "" {
			fail(usagef("", "%s: %s", where, msg))
			continue
		}
		s.source[f.def.flag] = where
	}
	if firstErr != nil && !contains([]string{"auto", "json", "text"}, s.LogFormat) {
		s.LogFormat = "auto"
	}
	return s, firstErr
}

// settingTypo returns a usage error for a variable of environ that is not
// a setting but is one or two typos away from one
// (N8N_SECRETS_EXPECT_KEY_FINGERPRNT, N8N_SECRET_DIR): ignored, it would
// silently leave the setting at its default, and a fingerprint pin or
// N8N_SECRETS_VERIFY_KEY=on that is not there fails open. Only names that
// start like the prefix are looked at; the error names the variable and
// the setting, never the value.
func settingTypo(environ map[string]string) error {
	known := make([]string, len(settingsTable))
	for i := range settingsTable {
		known[i] = settingsTable[i].varName()
	}
	var names []string
	for name := range environ {
		if strings.HasPrefix(name, settingsPrefix[:len(settingsPrefix)-2]) && !contains(known, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if near := suggest.Nearest(name, 2, known...); near != "" {
			return usagef("did you mean "+near+"? (n8n-secrets help lists every setting)",
				"%s: not a setting of n8n-secrets, and it would be ignored", name)
		}
	}
	return nil
}

// validate checks the values once flags and variables are merged: each
// setting's own check, in the table's order, then the checks that take
// several settings.
func (s *settings) validate() error {
	for i := range settingsTable {
		d := &settingsTable[i]
		if d.check == nil {
			continue
		}
		if msg := d.check(s); msg != "" {
			hint := ""
			if d.flag == "expect-key-fingerprint" {
				hint = "print a node's fingerprint with: n8n-secrets fingerprint"
			}
			return usagef(hint, "%s: %s", s.name(d.flag), msg)
		}
	}
	if s.Mask && s.Mode != modeSupervise {
		return usagef("masking needs a parent process between the command and its output: --mode supervise",
			"%s: works in supervise mode only (%s is %s)", s.name("mask"), s.name("mode"), s.Mode)
	}
	if s.MetricsAddr != "" && s.Mode != modeSupervise {
		return usagef("exec mode leaves no process behind to serve them: --mode supervise",
			"%s: works in supervise mode only (%s is %s)", s.name("metrics-addr"), s.name("mode"), s.Mode)
	}
	if err := (n8n.Options{Mode: s.N8N, SettingsMode: s.N8NSettings, ExpectFingerprint: s.ExpectKeyFingerprint}).Validate(); err != nil {
		return usagef("print a node's fingerprint with: n8n-secrets fingerprint", "%v", err)
	}
	return nil
}

// settingFlags returns a flag for each setting, which records the value
// given in *into, for loadSettings.
func settingFlags(into *[]flagValue) []*cmdline.Flag {
	flags := make([]*cmdline.Flag, 0, len(settingsTable))
	for i := range settingsTable {
		d := &settingsTable[i]
		flags = append(flags, &cmdline.Flag{Name: d.flag, Arg: d.arg, Help: d.help, Set: func(v string, pos int) error {
			*into = append(*into, flagValue{def: d, value: v, pos: pos})
			return nil
		}})
	}
	return flags
}

// logger returns the structured logger the settings ask for, on stderr.
func (s *settings) logger() *slog.Logger { return newLogger(logFormat(s), s.LogLevel) }

// logFormat returns the log format s asks for: json or text as set, else
// (auto, or s nil) text when stderr is a terminal and JSON otherwise.
func logFormat(s *settings) string {
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
