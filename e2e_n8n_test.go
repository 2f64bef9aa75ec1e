package main

// End-to-end tests of the n8n guard: the real binary, a stand-in for n8n
// (this test binary behind a link named n8n or docker-entrypoint.sh), and
// the real settings-file format. Every refusal is exit 78 with n8n never
// started; every run is checked for canaries.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// fakeN8N returns a path named name (n8n, docker-entrypoint.sh) that runs
// this test binary as the child.
func fakeN8N(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(self(t), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeSettings writes <home>/.n8n/config as n8n 1.123 does (tab indent).
func writeSettings(t *testing.T, home, key string, mode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(home, ".n8n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config")
	b, _ := json.MarshalIndent(map[string]string{"encryptionKey": key}, "", "\t")
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestN8NGuardRefuses(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string // n8n or docker-entrypoint.sh
		role    string
		env     []string
		key     string // planted as file:key and referenced by N8N_ENCRYPTION_KEY when not empty
		setting string // settings-file key, if any
		code    string
	}{
		{"worker without key", "n8n", "worker", nil, "", "", n8n.CodeKeyMissing.Name()},
		{"webhook without key", "docker-entrypoint.sh", "webhook", nil, "", "", n8n.CodeKeyMissing.Name()},
		{"queue main without key", "n8n", "start", []string{"EXECUTIONS_MODE=queue"}, "", "", n8n.CodeKeyMissing.Name()},
		{"key is a path", "n8n", "worker", []string{"N8N_ENCRYPTION_KEY=/run/secrets/n8n_encryption_key"}, "", "", n8n.CodeKeyIsPath.Name()},
		{"quoted twice", "n8n", "worker", nil, `""@""`, "", n8n.CodeKeyQuoted.Name()},
		{"settings file key with white space", "n8n", "start", nil, "", "settings-key-0123456789abcdef ", n8n.CodeKeyWhitespace.Name()},
		{"settings file holds another key", "n8n", "start", nil, "@", "other-key-0123456789abcdef", n8n.CodeSettingsKeyMismatch.Name()},
		{"worker with key only in settings", "n8n", "worker", nil, "", "settings-key-0123456789abcdef", n8n.CodeKeyOnlyInSettings.Name()},
		{"expected fingerprint differs", "n8n", "worker", []string{"N8N_SECRETS_EXPECT_KEY_FINGERPRINT=0000000000000000"}, "@", "", n8n.CodeFingerprintMismatch.Name()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t)
			env := append([]string{}, tt.env...)
			if tt.key != "" {
				k := e.canary("n8nkey")
				v := strings.ReplaceAll(tt.key, "@", k)
				e.plant("key", v)
				env = append(env, "N8N_ENCRYPTION_KEY=file:key")
			}
			if tt.setting != "" {
				e.canaries = append(e.canaries, tt.setting)
				writeSettings(t, e.home, tt.setting, 0o600)
			}
			r := e.run(env, "--", fakeN8N(t, tt.cmd), tt.role)
			if r.code != 78 || r.child != nil {
				t.Fatalf("exit %d (child ran: %v), want 78 and n8n not started\n%s", r.code, r.child != nil, r.stderr)
			}
			if !strings.Contains(r.stderr, `"code":"`+tt.code+`"`) || !strings.Contains(r.stderr, `"hint"`) {
				t.Errorf("log lacks %s with a hint:\n%s", tt.code, r.stderr)
			}
		})
	}
}

func TestN8NGuardAllowsAndWarns(t *testing.T) {
	e := newE2E(t)
	key := e.canary("n8nkey")
	e.plant("key", key+"\n")
	cmd := fakeN8N(t, "n8n")

	// A lone main without a key: a warning, n8n starts (it makes its own).
	r := e.run([]string{"E2E_CHILD_EXIT=0"}, "--", cmd, "start")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, `"code":"`+n8n.CodeKeyMissing.Name()+`"`) {
		t.Fatalf("lone main without key: exit %d\n%s", r.code, r.stderr)
	}

	// With the key: fingerprint logged, env access blocked in the child.
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key"}, "--", cmd, "worker")
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	fp := n8n.Fingerprint(key)
	if !strings.Contains(r.stderr, `"n8n_key_fingerprint":"`+fp+`"`) || !strings.Contains(r.stderr, `"n8n_role":"worker"`) {
		t.Errorf("summary lacks the fingerprint %s and role:\n%s", fp, r.stderr)
	}
	if envOf(r.child)["N8N_BLOCK_ENV_ACCESS_IN_NODE"] != "true" || !strings.Contains(r.stderr, n8n.CodeEnvAccessBlocked.Name()) {
		t.Errorf("N8N_BLOCK_ENV_ACCESS_IN_NODE must be set to true and logged")
	}

	// Explicitly allowed: a warning counting the injected secrets.
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_BLOCK_ENV_ACCESS_IN_NODE=false"}, "--", cmd)
	if r.code != 0 || envOf(r.child)["N8N_BLOCK_ENV_ACCESS_IN_NODE"] != "false" ||
		!strings.Contains(r.stderr, `"level":"WARN"`) || !strings.Contains(r.stderr, n8n.CodeEnvAccessAllowed.Name()) {
		t.Errorf("explicit false must be kept with a warning:\n%s", r.stderr)
	}

	// The expected fingerprint, with separators and in capitals, matches.
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_EXPECT_KEY_FINGERPRINT=" + strings.ToUpper(fp[:8]+":"+fp[8:])}, "--", cmd, "worker")
	if r.code != 0 {
		t.Errorf("matching fingerprint refused: exit %d\n%s", r.code, r.stderr)
	}

	// A settings file with the same key but readable by others: a warning.
	writeSettings(t, e.home, key, 0o644)
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key"}, "--", cmd)
	if r.code != 0 || !strings.Contains(r.stderr, n8n.CodeSettingsReadable.Name()) {
		t.Errorf("readable settings file must be reported: exit %d\n%s", r.code, r.stderr)
	}

	// White space or quotes around the key: n8n 1.123 and 2.40 remove them
	// and use the key inside (@n8n/config's normalizeEnvValue): a warning,
	// the start goes on, and the key logged is the one n8n uses.
	for _, v := range []string{key + " ", "\t" + key, `"` + key + `"`, ` '` + key + `' `} {
		e.plant("spaced_key", v)
		r = e.run([]string{"N8N_ENCRYPTION_KEY=file:spaced_key", "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
		if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, `"n8n_key_fingerprint":"`+fp+`"`) ||
			!strings.Contains(r.stderr, `"level":"WARN"`) {
			t.Errorf("a key n8n trims or unquotes: exit %d\n%s", r.code, r.stderr)
		}
	}

	// The guard is off: nothing checked, nothing set.
	r = e.run([]string{"N8N_SECRETS_N8N=off"}, "--", cmd, "worker")
	if r.code != 0 || envOf(r.child)["N8N_BLOCK_ENV_ACCESS_IN_NODE"] != "" {
		t.Errorf("guard off: exit %d", r.code)
	}
}

func TestN8NSettingsSync(t *testing.T) {
	e := newE2E(t)
	// sync replaces the file's key only with a key proved against n8n's
	// database: the fixture's, in the user folder.
	e.home, _ = n8ntest.CopySQLite(t, n8ntest.SQLite2x)
	key := n8ntest.Key
	e.canaries = append(e.canaries, key)
	e.plant("key", key)
	old := "old-key-" + strings.Repeat("z", 20)
	e.canaries = append(e.canaries, old)
	// The real format n8n 1.123 wrote (tab indent, mode 0644).
	fixture, err := os.ReadFile("n8n/testdata/n8n-1.123-config")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]string
	if err := json.Unmarshal(fixture, &doc); err != nil || doc["encryptionKey"] == "" {
		t.Fatalf("fixture: %v", err)
	}
	p := writeSettings(t, e.home, old, 0o644)
	if err := os.WriteFile(p, []byte(strings.Replace(string(fixture), doc["encryptionKey"], old, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := fakeN8N(t, "n8n")
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key"}, "--", cmd)
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, n8n.Fingerprint(old)) || !strings.Contains(r.stderr, n8n.Fingerprint(key)) || !strings.Contains(r.stderr, p) {
		t.Fatalf("mismatch must refuse naming the file and both fingerprints: exit %d\n%s", r.code, r.stderr)
	}
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync"}, "--", cmd)
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, n8n.CodeSettingsSynced.Name()) {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != strings.Replace(string(fixture), doc["encryptionKey"], key, 1) {
		t.Error("the synced file is not n8n's format holding the injected key")
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("synced file mode %v, want 0600", st.Mode().Perm())
	}
}

// TestN8NClusterRehearsal: one key in a real Vault; main, worker and webhook
// started with the same reference log the same fingerprint, and a node
// given another key refuses to start when the expected fingerprint is set.
func TestN8NClusterRehearsal(t *testing.T) {
	ve := newVaultE2E(t)
	tok := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, tok)
	entry := fakeN8N(t, "docker-entrypoint.sh")
	base := []string{"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key", "EXECUTIONS_MODE=queue",
		"VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + tok}
	want := n8n.Fingerprint(ve.key)
	for _, role := range []string{"", "worker", "webhook"} {
		args := []string{"--", entry}
		if role != "" {
			args = append(args, role)
		}
		r := ve.run(base, args...)
		if r.code != 0 || r.child == nil {
			t.Fatalf("role %q: exit %d\n%s", role, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, `"n8n_key_fingerprint":"`+want+`"`) {
			t.Errorf("role %q does not log fingerprint %s", role, want)
		}
	}
	// `fingerprint` prints the same, for comparing nodes by hand.
	r := ve.run(base, "fingerprint")
	if r.code != 0 || strings.TrimSpace(r.stdout) != want {
		t.Errorf("fingerprint command: exit %d, %q", r.code, r.stdout)
	}
	// A node added with a stale key.
	ve.v.PutKV("secret/n8n/stale", map[string]any{"encryption_key": ve.canary("stale")})
	stale := dedupeEnv(append(base, "N8N_ENCRYPTION_KEY=vault://secret/n8n/stale#encryption_key", "N8N_SECRETS_EXPECT_KEY_FINGERPRINT="+want))
	ve.v.WritePolicy("n8n-read", `path "secret/data/n8n/*" { capabilities = ["read"] }`)
	r = ve.run(stale, "--", entry, "worker")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, n8n.CodeFingerprintMismatch.Name()) {
		t.Fatalf("stale node: exit %d, want 78\n%s", r.code, r.stderr)
	}
}
