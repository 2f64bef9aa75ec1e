package n8n

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Canaries: distinctive key values that must never appear in anything the
// guard returns. Each one is also checked by its first half, to catch
// truncated echoes.
const (
	canaryKey      = "CANARYk3y-9f2e71d0c4b5a6e8f1d3c5b7a9e0f2d4"
	canaryFileKey  = "CANARYf1le-5e3c1a9f7d5b3a1e9c7b5d3f1a8e6c4"
	canaryShortKey = "CnRy!q7#"
	canaryInValue  = "CANARYpw-0d9c8b7a6f5e4d3c2b1a"
)

func TestNoSecretInOutput(t *testing.T) {
	type scenario struct {
		name     string
		opts     Options
		argv     []string
		kv       []string
		settings string // "" for no settings file
		mode     os.FileMode
	}
	fileWith := func(key string) string { return "{\n\t\"encryptionKey\": \"" + key + "\"\n}" }
	scenarios := []scenario{
		{name: "mismatch", kv: []string{EnvKey, canaryKey}, settings: fileWith(canaryFileKey), mode: 0o644},
		{name: "sync", opts: Options{SettingsMode: SettingsSync}, kv: []string{EnvKey, canaryKey}, settings: fileWith(canaryFileKey), mode: 0o644},
		{name: "expect mismatch", opts: Options{ExpectFingerprint: "0000000000000000"}, kv: []string{EnvKey, canaryKey}},
		{name: "whitespace", kv: []string{EnvKey, canaryKey + "\n"}},
		{name: "quoted", kv: []string{EnvKey, `"` + canaryKey + `"`}},
		{name: "one quote", kv: []string{EnvKey, `'` + canaryKey}},
		{name: "weak", kv: []string{EnvKey, canaryShortKey}},
		{name: "not utf-8", kv: []string{EnvKey, canaryKey + "\xff"}},
		{name: "path", kv: []string{EnvKey, "/run/secrets/" + canaryKey}},
		{name: "reference", kv: []string{EnvKey, "vualt://" + canaryKey}},
		{name: "only in settings, worker", argv: []string{"n8n", "worker"}, settings: fileWith(canaryFileKey), mode: 0o600},
		{name: "empty key", kv: []string{EnvKey, ""}, settings: fileWith(canaryFileKey), mode: 0o600},
		{name: "unparsable settings", kv: []string{EnvKey, canaryKey}, settings: `{"encryptionKey": ` + canaryFileKey + `}`, mode: 0o600},
		{name: "truncated settings", kv: []string{EnvKey, canaryKey}, settings: `{"encryptionKey": "` + canaryFileKey, mode: 0o600},
		{name: "settings key not a string", kv: []string{EnvKey, canaryKey}, settings: `{"encryptionKey": {"` + canaryFileKey + `": 1}}`, mode: 0o600},
		{name: "env access allowed", kv: []string{EnvKey, canaryKey, EnvBlockEnvAccess, "false", "DB_PASSWORD", canaryInValue}},
		{name: "env access ambiguous", kv: []string{EnvKey, canaryKey, EnvBlockEnvAccess, "yes", "DB_PASSWORD", canaryInValue}},
		{name: "allowlist", kv: []string{EnvKey, canaryKey, EnvBlockEnvAccess, "\x00unset", EnvAccessAllowlist, "DB_PASSWORD", "DB_PASSWORD", canaryInValue}},
	}
	canaries := []string{canaryKey, canaryFileKey, canaryShortKey, canaryInValue}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var content []byte
			if sc.settings != "" {
				content = []byte(sc.settings)
			}
			dir, _ := userFolder(t, content, sc.mode)
			argv := sc.argv
			if argv == nil {
				argv = argvStart
			}
			r, err := Check(sc.opts, argv, env(dir, sc.kv...), []string{EnvKey, "DB_PASSWORD"})
			if len(r.Findings) == 0 {
				t.Fatal("the scenario found nothing: it tests nothing")
			}
			outputs := []string{fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprint(r.SetEnv)}
			if err != nil {
				outputs = append(outputs, err.Error())
			}
			for _, f := range r.Findings {
				outputs = append(outputs, f.Code.Name(), f.Message, f.Hint)
			}
			for _, out := range outputs {
				for _, c := range canaries {
					for _, s := range []string{c, c[:len(c)/2], c[len(c)/2:]} {
						if strings.Contains(out, s) {
							// Say where, never print the output itself.
							t.Fatalf("a secret (canary %q part) appears in the output of scenario %q", s[:6], sc.name)
						}
					}
				}
			}
		})
	}
}

// TestNoSecretInErrors: invalid options are reported without repeating a
// key pasted in the wrong setting.
func TestNoSecretInErrors(t *testing.T) {
	_, err := Check(Options{ExpectFingerprint: canaryKey}, []string{"n8n"}, map[string]string{EnvKey: canaryKey}, nil)
	if err == nil {
		t.Fatal("a key accepted as a fingerprint")
	}
	if strings.Contains(err.Error(), canaryKey[:len(canaryKey)/2]) {
		t.Fatal("the error repeats the value")
	}
	if _, err := parseSettings([]byte(`{"a": ` + canaryKey + `}`)); err == nil || strings.Contains(err.Error(), "C") {
		t.Fatalf("parse error %v quotes the content", err)
	}
	// A planned rewrite holds the key: no formatting of it, and no error
	// of its Apply, may show it.
	dir, _ := userFolder(t, fixtureSettings(t), 0o600)
	r := mustCheck(t, Options{SettingsMode: SettingsSync}, []string{"n8n"}, env(dir, EnvKey, canaryKey), nil)
	if r.Sync == nil {
		t.Fatal("no rewrite planned")
	}
	defer r.Sync.Close()
	// Every verb, also those vet refuses for a struct: a stray one must
	// not show the key either.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{r.Sync, *r.Sync, r} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, canaryKey[:10]) || strings.Contains(s, fmt.Sprintf("%x", canaryKey[:10])) {
				t.Fatalf("formatting a rewrite plan with %s shows the key", verb)
			}
		}
	}
	renameAt = func(int, string, int, string) error { return errors.New("injected rename failure") }
	t.Cleanup(func() { renameAt = unix.Renameat })
	if err := r.Sync.Apply(); err == nil || strings.Contains(err.Error(), canaryKey[:10]) {
		t.Fatalf("apply error %v", err)
	}
}
