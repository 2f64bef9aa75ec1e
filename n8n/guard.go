package n8n

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/suggest"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
)

// Environment variables of n8n that the guard reads or sets.
const (
	EnvKey             = "N8N_ENCRYPTION_KEY"
	EnvUserFolder      = "N8N_USER_FOLDER"
	EnvBlockEnvAccess  = "N8N_BLOCK_ENV_ACCESS_IN_NODE"
	EnvAccessAllowlist = "N8N_ENV_ACCESS_ALLOWLIST"
	EnvExecutionsMode  = "EXECUTIONS_MODE"
	EnvMultiMain       = "N8N_MULTI_MAIN_SETUP_ENABLED"
	EnvNodesExclude    = "NODES_EXCLUDE"
)

// nodeExecuteCommand is the type of n8n's Execute Command node.
const nodeExecuteCommand = "n8n-nodes-base.executeCommand"

// Settings of n8n-secrets that configure the guard, as errors name them.
const (
	SettingMode              = "N8N_SECRETS_N8N"
	SettingSettingsMode      = "N8N_SECRETS_N8N_SETTINGS"
	SettingExpectFingerprint = "N8N_SECRETS_EXPECT_KEY_FINGERPRINT"
)

// Values of Options.Mode. The empty string means ModeAuto.
const (
	ModeAuto = "auto" // on when the command runs n8n or N8N_ENCRYPTION_KEY is set
	ModeOn   = "on"
	ModeOff  = "off"
)

// Values of Options.SettingsMode. The empty string means SettingsCheck.
const (
	SettingsCheck = "check" // report a settings file whose key differs
	SettingsSync  = "sync"  // rewrite it with N8N_ENCRYPTION_KEY instead
)

// Options configure the guard; main.go fills them from n8n-secrets'
// settings. The zero value is valid: auto mode, check the settings file,
// no expected fingerprint.
type Options struct {
	Mode              string // ModeAuto, ModeOn or ModeOff (N8N_SECRETS_N8N)
	SettingsMode      string // SettingsCheck or SettingsSync (N8N_SECRETS_N8N_SETTINGS)
	ExpectFingerprint string // see ParseFingerprint (N8N_SECRETS_EXPECT_KEY_FINGERPRINT)
	// KeyFile is N8N_ENCRYPTION_KEY_FILE when n8n reads the key from it
	// itself (N8N_ENCRYPTION_KEY unset): Check's env then holds the file's
	// contents as N8N_ENCRYPTION_KEY (n8nenv.ReadFiles). KeyFileErr says
	// why that file could not be read: n8n stops at its start.
	KeyFile, KeyFileErr string
}

// options are validated Options.
type options struct {
	mode                string
	sync                bool
	expect              string
	keyFile, keyFileErr string
}

func (o Options) parse() (options, error) {
	p := options{keyFile: o.KeyFile, keyFileErr: o.KeyFileErr}
	switch m := strings.ToLower(strings.TrimSpace(o.Mode)); m {
	case "", ModeAuto:
		p.mode = ModeAuto
	case ModeOn, ModeOff:
		p.mode = m
	default:
		return p, fmt.Errorf("n8n: %s must be auto, on or off, not %q", SettingMode, o.Mode)
	}
	switch strings.ToLower(strings.TrimSpace(o.SettingsMode)) {
	case "", SettingsCheck:
	case SettingsSync:
		p.sync = true
	default:
		return p, fmt.Errorf("n8n: %s must be check or sync, not %q", SettingSettingsMode, o.SettingsMode)
	}
	if strings.TrimSpace(o.ExpectFingerprint) != "" {
		fp, err := ParseFingerprint(o.ExpectFingerprint)
		if err != nil {
			return p, err
		}
		p.expect = fp
	}
	return p, nil
}

// Validate reports whether o is usable, so that main can refuse bad
// settings before it fetches any secret. Errors name the setting.
func (o Options) Validate() error {
	_, err := o.parse()
	return err
}

// Active reports whether the guard checks the command argv with the
// environment env under mode: never for "off", always for "on"; for
// "auto" (or "") when argv runs n8n or the n8n image's entrypoint
// (docker-entrypoint.sh), directly or through su-exec, gosu, tini, node and
// the like, or when N8N_ENCRYPTION_KEY is set in env, even to "". Another
// mode is an error naming N8N_SECRETS_N8N.
func Active(mode string, argv []string, env map[string]string) (bool, error) {
	p, err := Options{Mode: mode}.parse()
	if err != nil {
		return false, err
	}
	return active(p.mode, argv, env), nil
}

func active(mode string, argv []string, env map[string]string) bool {
	switch mode {
	case ModeOn:
		return true
	case ModeOff:
		return false
	}
	_, keySet := env[EnvKey]
	return keySet || runsN8N(argv)
}

// Severity ranks a Finding. Only Error stops the start.
type Severity int

// Severities, in increasing order.
const (
	Info Severity = iota
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText makes a Severity appear as its name in JSON and logs.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one result of Check. Message and Hint never contain a secret
// value: they name variables and files and show fingerprints.
type Finding struct {
	Code     logcode.Code // stable, e.g. CodeKeyMissing
	Severity Severity
	Message  string // what is wrong and what n8n would do
	Hint     string // how to fix it; may be empty
}

// KeySource tells where the key n8n will use comes from.
type KeySource string

// Key sources; the empty KeySource means n8n has no key and would
// generate one (or, for a worker, refuse to start).
const (
	KeyFromEnv      KeySource = "env"      // N8N_ENCRYPTION_KEY
	KeyFromSettings KeySource = "settings" // the settings file, N8N_ENCRYPTION_KEY unset
)

// Report is the result of Check.
type Report struct {
	Role Role
	// Fingerprint is the fingerprint of the key n8n will use (see
	// KeySource), "" when there is none. Log it on every node.
	Fingerprint  string
	KeySource    KeySource
	SettingsFile string // the settings file n8n reads; "" when the guard is not active
	Findings     []Finding
	// Sync is the rewrite of the settings file decided on with
	// N8N_SECRETS_N8N_SETTINGS=sync, or nil. Check never writes: the caller
	// applies it as its last step before exec (and never in a dry run), and
	// closes it in any case.
	Sync *SyncPlan
	// SetEnv holds variables to set in the child's environment before
	// exec, such as N8N_BLOCK_ENV_ACCESS_IN_NODE=true. Values are never
	// secrets.
	SetEnv map[string]string
}

// Failed reports whether a finding is an Error: n8n must not start.
func (r Report) Failed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity >= Error })
}

// Check inspects env, the environment n8n will be exec'd with (secret
// references already resolved), for the command argv, and returns what it
// found. injected names the variables whose values n8n-secrets fetched from
// a secret store or file; only their number and names are reported.
//
// Check reads the settings file and never writes anything: with
// SettingsMode "sync" it returns the rewrite it decided on in Report.Sync,
// for the caller to apply last. Problems found
// are Findings; the error is for invalid Options (naming the setting) or a
// current directory that cannot be determined. When the guard is not
// Active, the Report has only its Role.
func Check(opts Options, argv []string, env map[string]string, injected []string) (Report, error) {
	p, err := opts.parse()
	if err != nil {
		return Report{}, err
	}
	g := &guard{opts: p, env: env, injected: injected}
	g.r.Role = RoleOf(argv)
	if !active(p.mode, argv, env) {
		return g.r, nil
	}
	if g.r.SettingsFile, err = SettingsPath(env); err != nil {
		return Report{}, err
	}
	g.run()
	return g.r, nil
}

// guard holds the state of one Check.
type guard struct {
	opts     options
	env      map[string]string
	injected []string
	r        Report
}

func (g *guard) add(code logcode.Code, sev Severity, hint, format string, args ...any) {
	g.r.Findings = append(g.r.Findings, Finding{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...), Hint: hint})
}

const hintFromStore = "give every node the cluster's key from a secret store: N8N_ENCRYPTION_KEY=vault://…, N8N_ENCRYPTION_KEY=awssm://… or N8N_ENCRYPTION_KEY_FILE=/run/secrets/…"

// KeyOf returns the encryption key n8n takes from env (as n8nenv.ReadFiles
// returns it, N8N_ENCRYPTION_KEY_FILE read): N8N_ENCRYPTION_KEY as n8n
// 1.123 and 2.40 read it, trimmed and unquoted (@n8n/config's
// InstanceSettingsConfig.encryptionKey); "" when there is none.
func KeyOf(env map[string]string) string { return n8nenv.String(env, EnvKey, "") }

// keyLabel names where the key n8n takes from the environment comes from.
func (g *guard) keyLabel() string {
	if g.opts.keyFile != "" {
		return EnvKey + "_FILE (" + g.opts.keyFile + ", read by n8n itself)"
	}
	return EnvKey
}

func (g *guard) run() {
	rawKey, envKeySet := g.env[EnvKey]
	envKey := KeyOf(g.env)
	if g.opts.keyFileErr != "" {
		g.add(CodeKeyMissing, Error, hintFromStore,
			"%s_FILE: %s: n8n reads that file itself and stops when it cannot", EnvKey, g.opts.keyFileErr)
	}
	st := readSettings(g.r.SettingsFile)
	defer st.close()
	fileKey, fileHasKey := "", false
	if st.doc != nil {
		fileKey, fileHasKey = st.doc.key()
	}

	// The key n8n will use: the environment's, else the settings file's.
	var key string
	switch {
	case envKey != "":
		key, g.r.KeySource = envKey, KeyFromEnv
	case fileHasKey && fileKey != "":
		key, g.r.KeySource = fileKey, KeyFromSettings
	}
	if key != "" {
		g.r.Fingerprint = Fingerprint(key)
	}

	g.checkSettingsReadable(st)
	if envKey == "" && g.opts.keyFileErr == "" {
		g.checkMissing(st, envKeySet)
	}
	if key != "" {
		label := g.keyLabel()
		if g.r.KeySource == KeyFromSettings {
			label = "the encryptionKey in " + st.path
		}
		g.checkShape(label, key)
	}
	if envKey != "" && rawKey != envKey {
		g.checkNormalized(rawKey, envKey)
	}
	g.checkExpected(key)
	g.checkEnvAccess()
	// Last: whether the settings file may be rewritten depends on every
	// other finding.
	if envKey != "" && st.doc != nil && (!fileHasKey || fileKey != envKey) {
		g.checkSettingsKey(st, envKey, fileKey, fileHasKey)
	}
	if st.exists && st.err == nil && g.r.Sync == nil {
		if perm := st.perm(); perm&0o077 != 0 {
			g.add(CodeSettingsReadable, Warning,
				"run chmod 600 on it, or set N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true and n8n will (n8n 1.x wrote it with mode 0644, 2.x writes 0600)",
				"settings file %s has mode %04o: users other than its owner can read the encryption key it holds in plain text", st.path, perm)
		}
	}
}

// checkSettingsReadable reports a settings file that n8n could not load.
func (g *guard) checkSettingsReadable(st settingsFile) {
	switch {
	case st.err == nil:
	case isErrSettings(st.err):
		g.add(CodeSettingsInvalid, Error,
			"repair the file, or remove it if N8N_ENCRYPTION_KEY holds the right key (n8n then writes a new one)",
			"settings file %s is %v: n8n cannot start with it", st.path, st.err)
	default:
		g.add(CodeSettingsUnreadable, Error, "",
			"cannot read the settings file: %v", st.err)
	}
}

func isErrSettings(err error) bool {
	_, ok := err.(errSettings)
	return ok
}

// clustered returns why this process must share the cluster's key, or ""
// for a lone main, which may keep a generated key in its settings file.
func (g *guard) clustered() string {
	switch {
	case g.r.Role == RoleWorker:
		return "a worker"
	case g.r.Role == RoleWebhook:
		return "a webhook processor"
	case g.env[EnvExecutionsMode] == "queue":
		return "a process in queue mode (EXECUTIONS_MODE=queue)"
	case isTrue(g.env[EnvMultiMain]):
		return "a main in a multi-main setup (N8N_MULTI_MAIN_SETUP_ENABLED)"
	}
	return ""
}

// isTrue parses a boolean as n8n's config does (decorators.ts).
func isTrue(s string) bool {
	s = strings.ToLower(s)
	return s == "true" || s == "1"
}

// checkMissing reports that N8N_ENCRYPTION_KEY is unset or empty.
func (g *guard) checkMissing(st settingsFile, envKeySet bool) {
	if near := misspeltKeyVar(g.env); near != "" && !envKeySet {
		// The key was meant for n8n, under a name n8n ignores: whatever
		// the role, n8n would run without the cluster's key.
		g.add(CodeKeyMissing, Error, "rename it to "+EnvKey+" (or "+EnvKey+"_FILE for a file's path)",
			"%s is not set, but %s is: a misspelling, which n8n ignores: it would run without the cluster's key", EnvKey, near)
		return
	}
	what := EnvKey + " is not set"
	if envKeySet {
		what = EnvKey + " is set but empty"
	}
	who := g.clustered()
	if g.r.KeySource == KeyFromSettings {
		sev, why := Warning, ""
		if who != "" {
			sev = Error
			why = fmt.Sprintf("; %s must get the cluster's key from the environment: a key in a file of its own may be one it generated itself", who)
		}
		g.add(CodeKeyOnlyInSettings, sev, hintFromStore+", the same key as the file's (same fingerprint)",
			"%s, so n8n will use the encryptionKey in %s (fingerprint %s)%s", what, st.path, g.r.Fingerprint, why)
		return
	}
	var consequence string
	sev := Error
	switch {
	case g.r.Role == RoleWorker:
		consequence = "a worker refuses to start without it"
	case g.r.Role == RoleWebhook:
		consequence = "a webhook processor would generate a key of its own and could not decrypt the cluster's credentials"
	case who != "":
		consequence = who + " needs the cluster's key, but this one would generate a key of its own"
	case st.doc != nil || st.err != nil:
		consequence = fmt.Sprintf("the settings file %s holds no usable key either", st.path)
	case envKeySet:
		consequence = "some n8n versions then use the empty string as the key, others generate one"
	default:
		sev = Warning
		consequence = fmt.Sprintf("n8n will generate a key and keep it in plain text in %s, the only copy of the key to its credentials", st.path)
	}
	g.add(CodeKeyMissing, sev, hintFromStore, "%s: %s", what, consequence)
}

// KeyShape returns the findings of the checks the guard runs on the shape
// of a key (not UTF-8, a path, an unresolved reference, white space,
// quotes: errors; shorter than 16 characters: a warning), for a key that
// is not N8N_ENCRYPTION_KEY yet, such as rekey's new key. label names the
// key in messages, which never contain it.
func KeyShape(label, key string) []Finding {
	g := &guard{}
	g.checkShape(label, key)
	return g.r.Findings
}

// checkShape reports keys that n8n would take literally but that are
// probably not what was meant.
func (g *guard) checkShape(label, key string) {
	if !utf8.ValidString(key) {
		g.add(CodeKeyNotUTF8, Error, "store the key as text, such as base64 (n8n-secrets keygen)",
			"%s is not valid UTF-8: Node.js replaces the invalid bytes, so n8n would use another key than the one stored", label)
		return
	}
	if looksLikePath(key) {
		g.add(CodeKeyIsPath, Error, "to read the key from a file, set N8N_ENCRYPTION_KEY_FILE=<path>, or N8N_ENCRYPTION_KEY=file:<name> for a file in the secrets directory",
			"%s holds a file path, not a key: n8n would use the path itself as the key", label)
		return
	}
	if looksLikeReference(key) {
		g.add(CodeKeyIsReference, Error, "check the reference's scheme against the stores n8n-secrets --help lists",
			"%s holds a secret reference that was not resolved: n8n would use the reference itself as the key", label)
		return
	}
	shapeErr := false
	if trimmed := n8nenv.TrimJS(key); trimmed != key {
		shapeErr = true
		g.add(CodeKeyWhitespace, Error,
			"remove the whitespace where the key is stored",
			"%s has %s: n8n 1.123 and 2.40 trim N8N_ENCRYPTION_KEY (and N8N_ENCRYPTION_KEY_FILE's contents), so a node given this key in the environment uses another key than one that takes it as it is (fingerprint without the whitespace: %s)",
			label, describeSpace(key), Fingerprint(trimmed))
	}
	if q := quoted(key); q != Info {
		shapeErr = shapeErr || q == Error
		unq := strings.Trim(key, `"'`)
		what := "is wrapped in quotes"
		if q == Warning {
			what = "begins or ends with a quote character"
		}
		g.add(CodeKeyQuoted, q, "remove the quotes where the key is set: env files passed to docker --env-file keep them",
			"%s %s: n8n keeps quotes as part of the key (fingerprint without them: %s)", label, what, Fingerprint(unq))
	}
	if !shapeErr && utf8.RuneCountInString(key) < 16 {
		g.add(CodeKeyWeak, Warning, "use a random key (n8n-secrets keygen prints one); changing the key of an existing instance means re-encrypting its credentials",
			"%s is shorter than 16 characters: a short key can be guessed, also from its fingerprint", label)
	}
}

// looksLikePath reports a key that is a path where a key was meant: under a
// secrets mount, or the absolute path of an existing regular file.
func looksLikePath(key string) bool {
	if strings.HasPrefix(key, "/run/secrets/") || strings.HasPrefix(key, "/var/run/secrets/") {
		return true
	}
	if !filepath.IsAbs(key) || len(key) > 4096 {
		return false
	}
	fi, err := os.Stat(key)
	return err == nil && fi.Mode().IsRegular()
}

// looksLikeReference reports a key of the form scheme://… or file:….
func looksLikeReference(key string) bool {
	if strings.HasPrefix(key, "file:") {
		return true
	}
	i := strings.Index(key, "://")
	if i <= 0 || i+3 == len(key) {
		return false
	}
	for j, r := range key[:i] {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// describeSpace says where key has whitespace, naming a newline when it is
// one: the usual case, from a file written with echo.
func describeSpace(key string) string {
	first, _ := utf8.DecodeRuneInString(key)
	last, _ := utf8.DecodeLastRuneInString(key)
	lead, trail := n8nenv.IsSpaceJS(first), n8nenv.IsSpaceJS(last)
	switch {
	case lead && trail:
		return "leading and trailing whitespace"
	case lead:
		return "leading whitespace"
	case last == '\n':
		return "a trailing newline"
	case last == '\r':
		return "a trailing carriage return"
	}
	return "trailing whitespace"
}

// quoted returns Error for a key wrapped in matching quotes, Warning for a
// quote at one end only, and Info for none.
func quoted(key string) Severity {
	isQ := func(b byte) bool { return b == '"' || b == '\'' }
	switch {
	case len(key) >= 2 && isQ(key[0]) && key[0] == key[len(key)-1]:
		return Error
	case len(key) >= 1 && (isQ(key[0]) || isQ(key[len(key)-1])):
		return Warning
	}
	return Info
}

// checkSettingsKey handles a settings file whose key differs from envKey.
// In sync mode it plans a rewrite, but only when nothing else refuses the
// start (a wrong key, a key that is a path, another fingerprint than the
// pinned one would otherwise overwrite the only copy of the right key) and
// the file can be rewritten safely; Check itself never writes. Otherwise it
// reports the mismatch, which refuses the start.
func (g *guard) checkSettingsKey(st settingsFile, envKey, fileKey string, fileHasKey bool) {
	holds, oldFP := "holds no encryptionKey string", ""
	switch {
	case fileHasKey && fileKey == "":
		holds = "holds an empty encryptionKey"
	case fileHasKey:
		oldFP = Fingerprint(fileKey)
		holds = "holds a key with fingerprint " + oldFP
	}
	envFP := Fingerprint(envKey)
	why := ""
	if g.opts.sync {
		if g.r.Failed() {
			why = "; not rewritten although " + SettingSettingsMode + "=sync: the start is refused for the errors above, and a rewrite would replace the file's key with one that is wrong"
		} else {
			plan, err := planSync(st, envKey, oldFP, holds)
			if err == nil {
				g.r.Sync = plan
				g.add(CodeSettingsSyncPlanned, Info, "",
					"settings file %s %s, N8N_ENCRYPTION_KEY has fingerprint %s: %s=sync rewrites the file with it as the last step before n8n starts, once every other check has passed (check never writes); the file's old key is then gone",
					st.path, holds, envFP, SettingSettingsMode)
				return
			}
			why = "; not rewritten although " + SettingSettingsMode + "=sync: " + err.Error()
		}
	}
	g.add(CodeSettingsKeyMismatch, Error,
		"if N8N_ENCRYPTION_KEY is the right key, set "+SettingSettingsMode+"=sync to rewrite the file (the file's key is then gone) or remove the file; if the file's key is the right one, put that key in the secret store",
		"settings file %s %s but N8N_ENCRYPTION_KEY has fingerprint %s: n8n would stop with \"Mismatching encryption keys\"%s", st.path, holds, envFP, why)
}

// RefuseSync withdraws the rewrite of the settings file that Check planned
// (Report.Sync), because N8N_ENCRYPTION_KEY was not proved against n8n's
// database; why says what kept it from being proved. A key is replaced on
// disk only once it has decrypted n8n's database: the file may hold the
// only copy of the key the credentials were written with. The mismatch
// the plan would have repaired becomes an error (N8N_SETTINGS_SYNC_UNPROVED),
// so the start is refused and the file stays as it was. It does nothing
// when no rewrite was planned.
func (r *Report) RefuseSync(why string) {
	p := r.Sync
	if p == nil {
		return
	}
	p.Close()
	r.Sync = nil
	r.Findings = slices.DeleteFunc(r.Findings, func(f Finding) bool { return f.Code == CodeSettingsSyncPlanned })
	r.Findings = append(r.Findings, Finding{
		Code: CodeSettingsSyncUnproved, Severity: Error,
		Message: fmt.Sprintf("settings file %s %s but N8N_ENCRYPTION_KEY has fingerprint %s: n8n would stop with \"Mismatching encryption keys\"; not rewritten although %s=sync, which replaces the file's key only once N8N_ENCRYPTION_KEY has decrypted n8n's database: %s",
			p.Path, p.holds, p.NewFingerprint, SettingSettingsMode, why),
		Hint: "let the check before start prove the key (N8N_SECRETS_VERIFY_KEY=auto or on, and n8n's database reachable with the settings n8n uses), then start again; " +
			"if you are sure N8N_ENCRYPTION_KEY is right, keep a copy of the file's key, then remove the file (n8n writes it again from N8N_ENCRYPTION_KEY)",
	})
}

// checkNormalized reports a key that n8n reads other than it is set: n8n
// 1.123 and 2.40 trim N8N_ENCRYPTION_KEY (and the contents of
// N8N_ENCRYPTION_KEY_FILE) and remove one pair of quotes around it
// (@n8n/config's normalizeEnvValue), so they use used; n8n releases that
// read the variable as it is would use raw: nodes of both kinds would
// have different keys. A warning: the key n8n 1.123 and 2.40 use is the
// one fingerprinted and checked against the database.
func (g *guard) checkNormalized(raw, used string) {
	var what []string
	if t := n8nenv.TrimJS(raw); t != raw {
		what = append(what, describeSpace(raw))
	}
	if n8nenv.TrimJS(raw) != used {
		what = append(what, "quotes around it")
	}
	code := CodeKeyWhitespace
	if len(what) == 1 && what[0] == "quotes around it" {
		code = CodeKeyQuoted
	}
	g.add(code, Warning,
		"remove them where the key is stored or set: env files passed to docker --env-file keep quotes; n8n-secrets drops one trailing newline from the files it reads (NAME_FILE, file:)",
		"%s has %s: n8n 1.123 and 2.40 remove them and use the key with fingerprint %s (with them: %s); an n8n release that takes the variable as it is would use another key",
		g.keyLabel(), strings.Join(what, " and "), Fingerprint(used), Fingerprint(raw))
}

// checkExpected compares the key's fingerprint with the expected one.
func (g *guard) checkExpected(key string) {
	const hint = "this node's key differs from the cluster's: compare the fingerprints logged by every node and the secret each one references"
	switch {
	case g.opts.expect == "":
	case key == "":
		g.add(CodeFingerprintMismatch, Error, hint,
			"%s expects a key with fingerprint %s, but n8n has no key and would generate one", SettingExpectFingerprint, g.opts.expect)
	case g.r.Fingerprint != g.opts.expect:
		g.add(CodeFingerprintMismatch, Error, hint,
			"the key n8n will use has fingerprint %s, but %s expects %s", g.r.Fingerprint, SettingExpectFingerprint, g.opts.expect)
	}
}

// checkEnvAccess makes sure workflow code cannot read injected secrets from
// the environment, or says how many it can.
func (g *guard) checkEnvAccess() {
	var names []string // injected variables present in the child's environment
	for _, n := range g.injected {
		if _, ok := g.env[n]; ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)

	v := g.env[EnvBlockEnvAccess]
	switch v {
	case "true":
	case "":
		g.r.SetEnv = map[string]string{EnvBlockEnvAccess: "true"}
		g.add(CodeEnvAccessBlocked, Info,
			"",
			"%s is not set: setting it to true, so that expressions and Code nodes cannot read the environment%s (n8n 1.x lets them read it unless it is true)",
			EnvBlockEnvAccess, withSecrets(names))
	case "false":
		g.add(CodeEnvAccessAllowed, Warning,
			"remove "+EnvBlockEnvAccess+" (n8n-secrets then sets it to true), and give workflows what they need as n8n credentials",
			"%s=false lets expressions and Code nodes read the whole environment%s", EnvBlockEnvAccess, withSecrets(names))
	default:
		g.add(CodeEnvAccessAmbiguous, Warning, "set "+EnvBlockEnvAccess+"=true",
			"%s is neither \"true\" nor \"false\": n8n 1.x then lets expressions and Code nodes read the environment%s; n8n 2.x blocks it",
			EnvBlockEnvAccess, withSecrets(names))
	}
	g.checkExecuteCommand(names)
	if v == "false" {
		return // already reported: everything is exposed
	}
	var exposed []string
	for _, n := range strings.Split(g.env[EnvAccessAllowlist], ",") {
		if n = strings.TrimSpace(n); n != "" && slices.Contains(names, n) {
			exposed = append(exposed, n)
		}
	}
	if len(exposed) > 0 {
		slices.Sort(exposed)
		exposed = slices.Compact(exposed)
		g.add(CodeEnvAccessAllowed, Warning, "keep secrets out of N8N_ENV_ACCESS_ALLOWLIST: give them to workflows as n8n credentials",
			"%s exposes %s to expressions and Code nodes (n8n versions that support it)", EnvAccessAllowlist, secretsText(exposed))
	}
}

// checkExecuteCommand warns when workflows can run shell commands while
// secrets are injected: N8N_BLOCK_ENV_ACCESS_IN_NODE covers expressions
// and the Code node only, and an Execute Command node runs `env`, reads
// ~/.n8n/config and the files under /run/secrets. n8n 2.x excludes the
// node by default (NODES_EXCLUDE defaults to it and the Local File Trigger);
// n8n 1.x loads it unless NODES_EXCLUDE names it.
func (g *guard) checkExecuteCommand(names []string) {
	if len(names) == 0 {
		return
	}
	const hint = `exclude it: NODES_EXCLUDE='["n8n-nodes-base.executeCommand","n8n-nodes-base.localFileTrigger"]' (n8n 2.x excludes both by default; setting NODES_EXCLUDE replaces that default, so keep both in the list)`
	raw, set := g.env[EnvNodesExclude]
	if !set {
		g.add(CodeExecuteCommand, Warning, hint,
			"NODES_EXCLUDE is not set: on n8n 1.x workflows can use the Execute Command node, which runs shell commands that read the environment, with %s, and the files under /run/secrets; n8n 2.x excludes the node by default", secretsText(names))
		return
	}
	var excluded []string
	if err := json.Unmarshal([]byte(raw), &excluded); err != nil {
		g.add(CodeExecuteCommand, Warning, hint,
			"NODES_EXCLUDE is not a JSON array of node types: n8n may load the Execute Command node, whose shell commands read the environment, with %s", secretsText(names))
		return
	}
	if !slices.Contains(excluded, nodeExecuteCommand) {
		g.add(CodeExecuteCommand, Warning, hint,
			"NODES_EXCLUDE does not name %s: workflows can run shell commands that read the environment, with %s, and the files under /run/secrets (N8N_BLOCK_ENV_ACCESS_IN_NODE covers expressions and the Code node only)", nodeExecuteCommand, secretsText(names))
	}
}

// withSecrets returns ", which holds 2 injected secrets (A, B)" for the
// environment's message, or "" when there are none.
func withSecrets(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return ", which holds " + secretsText(names)
}

// secretsText counts and names injected variables: "2 injected secrets
// (A, B)". Names of variables only, never values.
func secretsText(names []string) string {
	switch len(names) {
	case 0:
		return "0 injected secrets"
	case 1:
		return "1 injected secret (" + names[0] + ")"
	}
	return fmt.Sprintf("%d injected secrets (%s)", len(names), strings.Join(names, ", "))
}

// misspeltKeyVar returns the first variable of env, by name, that is one or
// two typos away from N8N_ENCRYPTION_KEY or N8N_ENCRYPTION_KEY_FILE
// (N8N_ENCRYPTON_KEY, N8N_ENCRYPTION_KEY_FIEL), or "".
func misspeltKeyVar(env map[string]string) string {
	var names []string
	for name := range env {
		if name == EnvKey || name == EnvKey+"_FILE" {
			continue
		}
		if suggest.Nearest(name, 2, EnvKey, EnvKey+"_FILE") != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
