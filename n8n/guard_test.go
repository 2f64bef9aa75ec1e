package n8n

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

func TestKeyMissing(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		kv   []string
		want Severity
		says string // a part of the message
	}{
		{"worker", []string{"n8n", "worker"}, nil, Error, "a worker refuses to start"},
		{"webhook", []string{"/docker-entrypoint.sh", "webhook"}, nil, Error, "a webhook processor would generate a key of its own"},
		{"main in queue mode", argvStart, []string{EnvExecutionsMode, "queue"}, Error, "EXECUTIONS_MODE=queue"},
		{"multi-main", argvStart, []string{EnvMultiMain, "true"}, Error, EnvMultiMain},
		{"cli command in queue mode", []string{"n8n", "import:credentials"}, []string{EnvExecutionsMode, "queue"}, Error, "queue mode"},
		{"lone main", argvStart, nil, Warning, "n8n will generate a key and keep it in plain text in "},
		{"lone main, regular mode", argvStart, []string{EnvExecutionsMode, "regular"}, Warning, "will generate a key"},
		{"lone main, set but empty", argvStart, []string{EnvKey, ""}, Error, "some n8n versions then use the empty string as the key"},
		{"worker, set but empty", []string{"n8n", "worker"}, []string{EnvKey, ""}, Error, "is set but empty: a worker refuses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, tt.argv, env(dir, tt.kv...), nil)
			f := only(t, r, CodeKeyMissing)
			if f.Severity != tt.want {
				t.Errorf("severity %v, want %v", f.Severity, tt.want)
			}
			if !strings.Contains(f.Message, tt.says) {
				t.Errorf("message %q does not say %q", f.Message, tt.says)
			}
			for _, h := range []string{"N8N_ENCRYPTION_KEY=vault://", "N8N_ENCRYPTION_KEY_FILE=/run/secrets/"} {
				if !strings.Contains(f.Hint, h) {
					t.Errorf("hint %q does not mention %q", f.Hint, h)
				}
			}
			if r.Fingerprint != "" || r.KeySource != "" {
				t.Errorf("fingerprint %q, source %q without a key", r.Fingerprint, r.KeySource)
			}
			if r.Failed() != (tt.want == Error) {
				t.Errorf("Failed() = %v", r.Failed())
			}
		})
	}
}

func TestKeyOnlyInSettings(t *testing.T) {
	for _, tt := range []struct {
		name string
		argv []string
		want Severity
	}{
		{"lone main", argvStart, Warning},
		{"worker", []string{"n8n", "worker"}, Error},
		{"webhook", []string{"n8n", "webhook"}, Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, path := userFolder(t, fixtureSettings(t), 0o600)
			r := mustCheck(t, Options{}, tt.argv, env(dir), nil)
			f := only(t, r, CodeKeyOnlyInSettings)
			none(t, r, CodeKeyMissing)
			if f.Severity != tt.want {
				t.Errorf("severity %v, want %v", f.Severity, tt.want)
			}
			fp := Fingerprint(fixtureKey)
			if r.Fingerprint != fp || r.KeySource != KeyFromSettings {
				t.Errorf("fingerprint %q source %q, want %q from settings", r.Fingerprint, r.KeySource, fp)
			}
			if !strings.Contains(f.Message, fp) || !strings.Contains(f.Message, path) {
				t.Errorf("message %q names neither the fingerprint nor the file", f.Message)
			}
		})
	}
}

func TestKeyIsPath(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "n8n_key")
	if err := os.WriteFile(existing, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, key string
		want      bool
	}{
		{"docker secret path", "/run/secrets/n8n_enc_key", true},
		{"kubernetes secret path", "/var/run/secrets/n8n/key", true},
		{"existing file", existing, true},
		{"absolute path that does not exist", "/nonexistent/7f3c9a1e5b2d4c6e8a0f", false},
		{"directory", t.TempDir(), false},
		{"key with slashes", "ab/cd+ef/gh0123456789==", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, tt.key), nil)
			if !tt.want {
				none(t, r, CodeKeyIsPath)
				return
			}
			f := only(t, r, CodeKeyIsPath)
			if f.Severity != Error || !strings.Contains(f.Hint, "N8N_ENCRYPTION_KEY_FILE=") || !strings.Contains(f.Hint, "file:") {
				t.Errorf("got %v with hint %q", f.Severity, f.Hint)
			}
		})
	}
}

func TestKeyIsReference(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"vualt://secret/n8n/core#encryption_key", true},
		{"awssm://prod/n8n", true},
		{"file:n8n_key", true},
		{"0abc://x", false}, // a scheme begins with a letter
		{"abc://", false},
		{"Zm9vOi8vYmFy", false},
	} {
		t.Run(tt.key, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, tt.key), nil)
			if !tt.want {
				none(t, r, CodeKeyIsReference)
				return
			}
			if f := only(t, r, CodeKeyIsReference); f.Severity != Error {
				t.Errorf("severity %v", f.Severity)
			}
		})
	}
}

// TestKeyWhitespace: n8n 1.123 and 2.40 trim N8N_ENCRYPTION_KEY
// (@n8n/config's normalizeEnvValue): the key they use, fingerprinted and
// checked, is the trimmed one; white space is a warning (a release that
// takes the variable as it is would use another key), not a refusal of a
// key n8n reads right.
func TestKeyWhitespace(t *testing.T) {
	for _, tt := range []struct{ name, key, says string }{
		{"trailing newline", fixtureKey + "\n", "a trailing newline"},
		{"trailing CRLF", fixtureKey + "\r\n", "a trailing newline"},
		{"trailing space", fixtureKey + " ", "trailing whitespace"},
		{"leading tab", "\t" + fixtureKey, "leading whitespace"},
		{"both", " " + fixtureKey + " ", "leading and trailing whitespace"},
		{"non-breaking space and BOM", "\ufeff" + fixtureKey + "\u00a0", "leading and trailing whitespace"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, tt.key), nil)
			f := only(t, r, CodeKeyWhitespace)
			if f.Severity != Warning || !strings.Contains(f.Message, tt.says) {
				t.Errorf("got %v %q, want a warning saying %q", f.Severity, f.Message, tt.says)
			}
			if !strings.Contains(f.Message, Fingerprint(fixtureKey)) {
				t.Errorf("message %q lacks the trimmed key's fingerprint", f.Message)
			}
			if r.Fingerprint != Fingerprint(fixtureKey) || r.Failed() {
				t.Errorf("the report's key is not the trimmed key n8n uses, or the start is refused")
			}
			none(t, r, CodeKeyWeak)
		})
	}
	// U+0085 is white space to Go, not to JavaScript's trim: n8n keeps it.
	dir, _ := userFolder(t, nil, 0)
	r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, fixtureKey+"\u0085"), nil)
	none(t, r, CodeKeyWhitespace)
	if r.Fingerprint != Fingerprint(fixtureKey+"\u0085") {
		t.Error("U+0085 was trimmed; n8n keeps it")
	}
}

// TestKeyQuoted: n8n 1.123 and 2.40 remove one pair of matching quotes
// around the key (a warning, the unquoted key fingerprinted); quotes they
// keep (one quote, a pair around several lines, a pair left after the
// first) are part of the key n8n uses.
func TestKeyQuoted(t *testing.T) {
	for _, tt := range []struct {
		name, key, used string
		want            Severity
	}{
		{"double quotes", `"` + fixtureKey + `"`, fixtureKey, Warning},
		{"single quotes", "'" + fixtureKey + "'", fixtureKey, Warning},
		{"one quote", `"` + fixtureKey, `"` + fixtureKey, Warning},
		{"two pairs", `""` + fixtureKey + `""`, `"` + fixtureKey + `"`, Error},
		{"around two lines", `"` + fixtureKey + "\nx\"", `"` + fixtureKey + "\nx\"", Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, tt.key), nil)
			if r.Fingerprint != Fingerprint(tt.used) {
				t.Fatalf("the report's key is not the one n8n uses")
			}
			var worst Severity
			for _, f := range r.Findings {
				if (f.Code == CodeKeyQuoted || f.Code == CodeKeyWhitespace) && f.Severity > worst {
					worst = f.Severity
				}
			}
			if worst != tt.want {
				t.Errorf("worst finding %v, want %v: %v", worst, tt.want, r.Findings)
			}
		})
	}
}

func TestKeyNotUTF8(t *testing.T) {
	dir, _ := userFolder(t, nil, 0)
	r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, "key-\xff\xfe-0123456789abcdef"), nil)
	if f := only(t, r, CodeKeyNotUTF8); f.Severity != Error {
		t.Errorf("severity %v", f.Severity)
	}
}

func TestKeyWeak(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"hunter2", true},
		{"0123456789abcde", true},   // 15
		{"0123456789abcdef", false}, // 16
		{"ééééééééééééééé", true},   // 15 characters, 30 bytes
		{fixtureKey, false},
	} {
		t.Run(tt.key, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, tt.key), nil)
			if !tt.want {
				none(t, r, CodeKeyWeak)
				return
			}
			if f := only(t, r, CodeKeyWeak); f.Severity != Warning {
				t.Errorf("severity %v", f.Severity)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	// Computed independently: python3 -c 'import hashlib; print(hashlib.sha256(
	// b"n8n-secrets/encryption-key-fingerprint/v1\x00" + KEY).hexdigest()[:16])'
	for key, want := range map[string]string{
		fixtureKey: "4fe89918055f3246",
		"":         "bb726708ca7c9fc8",
	} {
		if got := Fingerprint(key); got != want {
			t.Errorf("Fingerprint(%d-byte key) = %s, want %s", len(key), got, want)
		}
	}
	if Fingerprint(fixtureKey+"\n") == Fingerprint(fixtureKey) {
		t.Error("a trailing newline does not change the fingerprint")
	}
}

func TestReportFingerprint(t *testing.T) {
	dir, _ := userFolder(t, nil, 0)
	r := mustCheck(t, Options{}, []string{"n8n", "worker"}, env(dir, EnvKey, fixtureKey), nil)
	if r.Fingerprint != "4fe89918055f3246" || r.KeySource != KeyFromEnv || r.Role != RoleWorker {
		t.Errorf("got %q %q %q", r.Fingerprint, r.KeySource, r.Role)
	}
	if len(r.Findings) != 0 || r.Failed() {
		t.Errorf("unexpected findings %v", codesOf(r))
	}
}

func TestParseFingerprint(t *testing.T) {
	for _, in := range []string{"4fe89918055f3246", "4FE89918055F3246", "4fe8-9918-055f-3246", "4f:e8:99:18:05:5f:32:46", " 4fe89918 055f3246 "} {
		if got, err := ParseFingerprint(in); err != nil || got != "4fe89918055f3246" {
			t.Errorf("ParseFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "4fe89918055f324", "4fe89918055f32466", "4fe89918055f324g", fixtureKey} {
		_, err := ParseFingerprint(in)
		if err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), SettingExpectFingerprint) || (len(in) > 3 && strings.Contains(err.Error(), in)) {
			t.Errorf("error %q does not name the setting, or repeats the input", err)
		}
	}
}

func TestExpectFingerprint(t *testing.T) {
	fp := Fingerprint(fixtureKey)
	for _, tt := range []struct {
		name, expect string
		kv           []string
		want         bool
	}{
		{"same", fp, []string{EnvKey, fixtureKey}, false},
		{"same, upper case with separators", strings.ToUpper(fp[:8] + ":" + fp[8:]), []string{EnvKey, fixtureKey}, false},
		{"different", fp, []string{EnvKey, otherKey}, true},
		{"no key", fp, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{ExpectFingerprint: tt.expect}, argvStart, env(dir, tt.kv...), nil)
			if !tt.want {
				none(t, r, CodeFingerprintMismatch)
				return
			}
			f := only(t, r, CodeFingerprintMismatch)
			if f.Severity != Error || !strings.Contains(f.Message, fp) {
				t.Errorf("got %v %q", f.Severity, f.Message)
			}
			if len(tt.kv) > 0 && !strings.Contains(f.Message, Fingerprint(otherKey)) {
				t.Errorf("message %q lacks the actual fingerprint", f.Message)
			}
		})
	}
}

func TestOptionsInvalid(t *testing.T) {
	for _, tt := range []struct {
		opts    Options
		setting string
	}{
		{Options{Mode: "maybe"}, SettingMode},
		{Options{SettingsMode: "fix"}, SettingSettingsMode},
		{Options{ExpectFingerprint: "xyz"}, SettingExpectFingerprint},
	} {
		if err := tt.opts.Validate(); err == nil || !strings.Contains(err.Error(), tt.setting) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tt.opts, err, tt.setting)
		}
		if _, err := Check(tt.opts, []string{"n8n"}, nil, nil); err == nil {
			t.Errorf("Check accepted %+v", tt.opts)
		}
	}
	if err := (Options{Mode: "On", SettingsMode: "SYNC"}).Validate(); err != nil {
		t.Errorf("case-insensitive modes: %v", err)
	}
}

func TestOff(t *testing.T) {
	dir, _ := userFolder(t, []byte("not json"), 0o644)
	e := env(dir, EnvKey, "/run/secrets/n8n_key", EnvBlockEnvAccess, "false")
	r := mustCheck(t, Options{Mode: ModeOff, SettingsMode: SettingsSync}, []string{"n8n", "worker"}, e, []string{EnvKey})
	if len(r.Findings) != 0 || r.SetEnv != nil || r.Fingerprint != "" || r.Failed() {
		t.Errorf("off mode reported %+v", r)
	}
	if active, _ := Active(ModeOff, []string{"n8n", "worker"}, e); active {
		t.Error("Active in off mode")
	}
}

func TestAutoNotActive(t *testing.T) {
	r := mustCheck(t, Options{}, []string{"/bin/sh", "-c", "true"}, map[string]string{"HOME": t.TempDir()}, nil)
	if len(r.Findings) != 0 || r.SetEnv != nil || r.SettingsFile != "" {
		t.Errorf("inactive guard reported %+v", r)
	}
}

func TestEnvAccess(t *testing.T) {
	injected := []string{"DB_POSTGRESDB_PASSWORD", EnvKey, "QUEUE_BULL_REDIS_PASSWORD", "NOT_IN_ENV", EnvKey}
	base := []string{EnvKey, fixtureKey, "DB_POSTGRESDB_PASSWORD", "pw", "QUEUE_BULL_REDIS_PASSWORD", "pw2"}
	for _, tt := range []struct {
		name   string
		kv     []string
		code   logcode.Code
		sev    Severity
		says   string
		setEnv bool
	}{
		{"unset", []string{EnvBlockEnvAccess, "\x00unset"}, CodeEnvAccessBlocked, Info, "3 injected secrets", true},
		{"empty", []string{EnvBlockEnvAccess, ""}, CodeEnvAccessBlocked, Info, "setting it to true", true},
		{"true", nil, logcode.Code{}, 0, "", false},
		{"false", []string{EnvBlockEnvAccess, "false"}, CodeEnvAccessAllowed, Warning,
			"3 injected secrets (DB_POSTGRESDB_PASSWORD, N8N_ENCRYPTION_KEY, QUEUE_BULL_REDIS_PASSWORD)", false},
		{"upper-case TRUE", []string{EnvBlockEnvAccess, "TRUE"}, CodeEnvAccessAmbiguous, Warning, "n8n 1.x then lets", false},
		{"allowlist with a secret", []string{EnvAccessAllowlist, "APP_URL, DB_POSTGRESDB_PASSWORD"}, CodeEnvAccessAllowed, Warning,
			"1 injected secret (DB_POSTGRESDB_PASSWORD)", false},
		{"allowlist without secrets", []string{EnvAccessAllowlist, "APP_URL"}, logcode.Code{}, 0, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, append(base, tt.kv...)...), injected)
			if got := r.SetEnv[EnvBlockEnvAccess] == "true"; got != tt.setEnv {
				t.Errorf("SetEnv = %v", r.SetEnv)
			}
			if tt.code.IsZero() {
				none(t, r, CodeEnvAccessBlocked, CodeEnvAccessAllowed, CodeEnvAccessAmbiguous)
				return
			}
			f := only(t, r, tt.code)
			if f.Severity != tt.sev || !strings.Contains(f.Message, tt.says) {
				t.Errorf("got %v %q, want %v saying %q", f.Severity, f.Message, tt.sev, tt.says)
			}
			if r.Failed() {
				t.Error("env access alone failed the check")
			}
		})
	}
}

// TestExecuteCommand: with secrets injected, the Execute Command node can
// read them whatever N8N_BLOCK_ENV_ACCESS_IN_NODE says: a warning unless
// NODES_EXCLUDE names it.
func TestExecuteCommand(t *testing.T) {
	injected := []string{EnvKey, "DB_POSTGRESDB_PASSWORD"}
	base := []string{EnvKey, fixtureKey, "DB_POSTGRESDB_PASSWORD", "pw"}
	for _, tt := range []struct {
		name     string
		kv       []string
		injected []string
		says     string // "" for no finding
	}{
		{"unset", nil, injected, "NODES_EXCLUDE is not set"},
		{"excluded", []string{EnvNodesExclude, `["n8n-nodes-base.executeCommand"]`}, injected, ""},
		{"excluded with others", []string{EnvNodesExclude, `[ "n8n-nodes-base.localFileTrigger", "n8n-nodes-base.executeCommand" ]`}, injected, ""},
		{"emptied (2.x default undone)", []string{EnvNodesExclude, `[]`}, injected, "does not name n8n-nodes-base.executeCommand"},
		{"other nodes only", []string{EnvNodesExclude, `["n8n-nodes-base.readWriteFile"]`}, injected, "does not name"},
		{"not JSON", []string{EnvNodesExclude, `n8n-nodes-base.executeCommand`}, injected, "not a JSON array"},
		{"nothing injected", nil, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, nil, 0)
			r := mustCheck(t, Options{}, argvStart, env(dir, append(base, tt.kv...)...), tt.injected)
			if tt.says == "" {
				none(t, r, CodeExecuteCommand)
				return
			}
			f := only(t, r, CodeExecuteCommand)
			if f.Severity != Warning || !strings.Contains(f.Message, tt.says) || !strings.Contains(f.Message, "2 injected secrets") || r.Failed() {
				t.Errorf("got %v %q (failed %v)", f.Severity, f.Message, r.Failed())
			}
		})
	}
}
